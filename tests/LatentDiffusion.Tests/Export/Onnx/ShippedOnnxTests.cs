using System.Text.Json;
using LatentDiffusion.Export.Onnx;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Export.Onnx;

/// <summary>
/// The ONNX files shipped in models/onnx (what ldm-lite carries) are exactly what exporting the shipped weights writes
/// today, byte for byte: a retrained model or a changed exporter shows here. To refresh them:
/// <c>ldm export --onnx models/onnx --model models/conditional.safetensors models/latent-vae.safetensors models/classifier.safetensors</c>.
/// </summary>
[Collection("Torch")]
public sealed class ShippedOnnxTests
{
    [Fact]
    public void ShippedOnnx_EqualsAFreshExportOfTheShippedWeights()
    {
        string shipped = RepositoryPaths.Find("models/onnx") ?? throw new DirectoryNotFoundException("models/onnx");
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(shipped, OnnxExport.ManifestFile)));
        string[] sources = manifest.RootElement.GetProperty("files").EnumerateArray()
            .Select(f => f.GetProperty("source").GetString()!).Distinct().ToArray();
        using var dir = new TempDirectory();

        var fresh = OnnxExport.Export(sources.Select(s => RepositoryPaths.Find("models/" + s) ?? throw new FileNotFoundException(s)).ToArray(), dir.Path);

        Assert.Equal(Directory.GetFiles(shipped).Select(Path.GetFileName).Order(), Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        foreach (string file in Directory.GetFiles(dir.Path))
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(shipped, Path.GetFileName(file)))),
                $"models/onnx/{Path.GetFileName(file)} differs from a fresh export; re-export as this test's summary says");
        Assert.Equal(4, fresh.Count);
    }
}
