using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Export.Onnx;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm export --onnx DIR [--model FILE …]</c>: the networks as ONNX files (opset 17, dynamic batch, the model's
/// config in the metadata) for ONNX Runtime, ldm-lite and the browser; by default every shipped generator, the latent VAE
/// and the classifier.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var onnx = new Option<string>("--onnx") { Description = "Folder to write the ONNX files and their manifest (ldm-onnx.json) into; created if missing.", Required = true };
        var models = new Option<string[]>("--model")
        {
            Description = "Model file(s) to export (.safetensors written by ldm: a UNet, a VAE or the classifier). Default: the shipped " +
                          string.Join(", ", OnnxExport.ShippedModels) + ".",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = CommonOptions.JsonOption();
        var command = new Command("export", "Write the networks as ONNX files (for ONNX Runtime: ldm-lite, the browser).") { onnx, models, json };
        command.SetAction(CliApp.Action(parse =>
        {
            string dir = parse.GetValue(onnx)!;
            if (string.IsNullOrWhiteSpace(dir)) throw new InvalidOptionException("--onnx needs a folder");
            string[] given = parse.GetValue(models) ?? [];
            string[] files = given.Length > 0 ? given : OnnxExport.ShippedModels.Select(Defaults.Model).ToArray();
            foreach (string f in files) CliApp.RequireFile(f, "model file");
            var written = OnnxExport.Export(files, dir, file => CliApp.Err.MarkupLineInterpolated($"[grey]writing {file}[/]"));
            foreach (var f in written)
                CliApp.Out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{f.Path}: {f.Kind}, {f.Bytes / 1024.0:F0} KiB (from {Path.GetFileName(f.Source)})");
            CliApp.Out.MarkupLineInterpolated($"Wrote {written.Count} ONNX files (opset {OnnxGraph.Opset}) and {Path.Combine(dir, OnnxExport.ManifestFile)}.");
            if (parse.GetValue(json))
                CliApp.WriteJson(new { directory = dir, opset = OnnxGraph.Opset, files = written.Select(f => new { path = f.Path, kind = f.Kind, source = f.Source, bytes = f.Bytes }) });
            return CliApp.Ok;
        }));
        return command;
    }
}
