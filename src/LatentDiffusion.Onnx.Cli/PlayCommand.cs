using System.CommandLine;

namespace LatentDiffusion.Onnx.Cli;

/// <summary>
/// <c>ldm-lite play --out docs/play/models</c>: the exported UNet, VAE decoder and classifier as the scripts the browser
/// page loads (<see cref="BrowserModels"/>); after a re-export, run it to refresh docs/play/models.
/// </summary>
public static class PlayCommand
{
    public static Command Create()
    {
        var models = new Option<string>("--models") { Description = "Folder written by ldm export --onnx. Default: onnx/ beside ldm-lite.", DefaultValueFactory = _ => GenerateCommand.DefaultModels };
        var model = new Option<string>("--model") { Description = "The UNet in that folder (NAME or NAME.onnx).", DefaultValueFactory = _ => "conditional" };
        var output = new Option<string>("--out") { Description = "The folder of scripts (the page's is docs/play/models).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line of stdout." };
        var command = new Command("play", "Write the browser page's model scripts (docs/play/models) from exported files.") { models, model, output, json };
        command.SetAction(parse =>
        {
            string dest = parse.GetValue(output)!;
            IReadOnlyList<string> written = BrowserModels.Write(parse.GetValue(models)!, parse.GetValue(model)!, dest);
            foreach (string file in written) Console.WriteLine($"Wrote {file} ({new FileInfo(file).Length:N0} bytes).");
            if (parse.GetValue(json)) LiteApp.WriteJson(new { output = dest, files = written });
            return LiteApp.Ok;
        });
        return command;
    }
}
