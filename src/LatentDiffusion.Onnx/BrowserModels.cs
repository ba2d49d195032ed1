using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LatentDiffusion.IO;

namespace LatentDiffusion.Onnx;

/// <summary>
/// The networks the browser page (docs/play) runs, written as classic scripts: a page opened from disk (file://) may
/// not fetch() a file beside it, but it may run a &lt;script&gt; from there. Each network becomes <c>NAME.onnx.js</c>,
/// which adds <c>{kind, model, bytes}</c> to <c>self.ldmPlayFiles</c>: its kind, its <c>ldm.model</c> metadata as
/// <c>ldm export --onnx</c> wrote it (the page reads the schedule, latent scale, samplers and guidance from there,
/// never from its own constants) and the ONNX file base64-encoded. <c>index.js</c> names the three the page uses —
/// the UNet, the VAE decoder and the classifier — in <c>self.ldmPlayModels</c>. The output is a function of the
/// files alone (no dates), so a test can keep the shipped scripts equal to a fresh write.
/// </summary>
public static class BrowserModels
{
    /// <summary>The script that names the page's networks.</summary>
    public const string IndexFile = "index.js";

    /// <summary>
    /// Writes the scripts for the UNet <paramref name="model"/> of the exported folder <paramref name="directory"/>,
    /// with the decoder and the classifier its manifest lists, into <paramref name="output"/> (created if needed; files
    /// of the same names are replaced). Each network is opened first, so a file of the wrong kind or without ldm's
    /// metadata is refused before anything is written. Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, string model, string output)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        var roles = new (string Role, string Path, string Kind)[]
        {
            ("unet", LiteGenerator.UNetFile(directory, model), ModelInfo.UNetKind),
            ("decoder", LiteGenerator.FileOfKind(directory, ModelInfo.DecoderKind), ModelInfo.DecoderKind),
            ("classifier", LiteGenerator.FileOfKind(directory, ModelInfo.ClassifierKind), ModelInfo.ClassifierKind),
        };
        var scripts = new List<(string File, string Text)>();
        foreach (var (_, path, kind) in roles)
        {
            string json;
            using (OnnxNetwork network = OnnxNetwork.Open(path, kind, new RuntimeOptions { Threads = 1 })) json = network.ModelJson;
            scripts.Add((Path.GetFileName(path) + ".js", Script(Path.GetFileName(path), kind, json, File.ReadAllBytes(path))));
        }
        var index = new StringBuilder();
        index.Append("// The networks docs/play runs; written by ldm-lite play (LatentDiffusion.Onnx/BrowserModels.cs). Do not edit.\n");
        index.Append("self.ldmPlayModels = ");
        index.Append(JsonSerializer.Serialize(roles.ToDictionary(r => r.Role, r => Path.GetFileName(r.Path)), new JsonSerializerOptions { WriteIndented = true }));
        index.Append(";\n");
        scripts.Add((IndexFile, index.ToString()));

        if (File.Exists(output)) throw new IOException($"{output}: exists and is a file, not a folder");
        Directory.CreateDirectory(output);
        var written = new List<string>();
        foreach (var (file, text) in scripts)
        {
            string path = Path.Combine(output, file);
            AtomicFile.WriteAllText(path, text);
            written.Add(path);
        }
        return written;
    }

    /// <summary>One network as a script: a comment naming it, then its entry in <c>self.ldmPlayFiles</c>.</summary>
    static string Script(string name, string kind, string modelJson, byte[] bytes)
    {
        using var model = JsonDocument.Parse(modelJson);
        var text = new StringBuilder();
        text.Append("// ").Append(name).Append(" (ONNX, ").Append(bytes.Length).Append(" bytes, SHA-256 ")
            .Append(Convert.ToHexStringLower(SHA256.HashData(bytes))).Append("), base64, with its ldm.model metadata.\n");
        text.Append("// Written by ldm-lite play (LatentDiffusion.Onnx/BrowserModels.cs) for docs/play. Do not edit.\n");
        text.Append("(self.ldmPlayFiles ??= {})[").Append(JsonSerializer.Serialize(name)).Append("] = {\n");
        text.Append("  kind: ").Append(JsonSerializer.Serialize(kind)).Append(",\n");
        text.Append("  model: ").Append(JsonSerializer.Serialize(model.RootElement)).Append(",\n");
        text.Append("  bytes: \"").Append(Convert.ToBase64String(bytes)).Append("\",\n");
        text.Append("};\n");
        return text.ToString();
    }
}
