using System.Text.Json;
using System.Text.RegularExpressions;
using LatentDiffusion.IO;
using LatentDiffusion.Onnx;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>
/// <see cref="BrowserModels"/>: the scripts shipped in docs/play/models are exactly what <c>ldm-lite play</c> writes from
/// models/onnx today (a re-export shows here; refresh with <c>ldm-lite play --models models/onnx --out docs/play/models</c>);
/// each script holds its ONNX file byte for byte and its metadata as written; a folder without a classifier is one line.
/// </summary>
public sealed partial class BrowserModelsTests
{
    static string ShippedOnnx => RepositoryPaths.Find("models/onnx") ?? throw new DirectoryNotFoundException("models/onnx");

    [Fact]
    public void ShippedScripts_EqualAFreshWriteFromModelsOnnx()
    {
        string shipped = RepositoryPaths.Find("docs/play/models") ?? throw new DirectoryNotFoundException("docs/play/models");
        using var dir = new TempDirectory();

        var written = BrowserModels.Write(ShippedOnnx, "conditional", dir.Path);

        Assert.Equal(["classifier.onnx.js", "conditional.onnx.js", "index.js", "latent-vae.decoder.onnx.js"], dir.FileNames());
        Assert.Equal(4, written.Count);
        Assert.Equal(dir.FileNames(), Directory.GetFiles(shipped).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string file in dir.FileNames())
            Assert.True(File.ReadAllBytes(dir.File(file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(shipped, file))),
                $"docs/play/models/{file} differs from a fresh write; refresh as this test's summary says");
    }

    [Fact]
    public void Script_HoldsTheOnnxFileAndItsMetadata()
    {
        using var dir = new TempDirectory();
        BrowserModels.Write(ShippedOnnx, "conditional", dir.Path);
        string script = File.ReadAllText(dir.File("conditional.onnx.js"));

        Assert.Equal(File.ReadAllBytes(Path.Combine(ShippedOnnx, "conditional.onnx")), Convert.FromBase64String(Bytes().Match(script).Groups[1].Value));
        using var model = JsonDocument.Parse(Model().Match(script).Groups[1].Value);
        using OnnxNetwork network = OnnxNetwork.Open(Path.Combine(ShippedOnnx, "conditional.onnx"), ModelInfo.UNetKind);
        using var written = JsonDocument.Parse(network.ModelJson);
        Assert.True(JsonElement.DeepEquals(written.RootElement, model.RootElement), "the script's metadata is the file's ldm.model");
        Assert.Equal(3, model.RootElement.GetProperty("guidance").GetDouble());
        Assert.Contains("\"unet\": \"conditional.onnx\"", File.ReadAllText(dir.File(BrowserModels.IndexFile)));
    }

    [Fact]
    public void Write_FolderWithoutAClassifier_IsOneLineNamingTheManifest_AndWritesNothing()
    {
        using var dir = new TempDirectory();
        string onnx = dir.File("onnx");
        Directory.CreateDirectory(onnx);
        foreach (string file in new[] { "conditional.onnx", "latent-vae.decoder.onnx" }) File.Copy(Path.Combine(ShippedOnnx, file), Path.Combine(onnx, file));
        File.WriteAllText(Path.Combine(onnx, LiteGenerator.ManifestFile),
            """{"format": "1", "files": [{"file": "conditional.onnx", "kind": "unet"}, {"file": "latent-vae.decoder.onnx", "kind": "vae-decoder"}]}""");

        var e = Assert.Throws<OnnxModelException>(() => BrowserModels.Write(onnx, "conditional", dir.File("out")));

        Assert.Equal($"{Path.Combine(onnx, LiteGenerator.ManifestFile)}: lists no classifier", e.Message);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [GeneratedRegex("""bytes: "([A-Za-z0-9+/=]+)",""")]
    private static partial Regex Bytes();

    [GeneratedRegex("""model: (\{.*\}),\n""")]
    private static partial Regex Model();
}
