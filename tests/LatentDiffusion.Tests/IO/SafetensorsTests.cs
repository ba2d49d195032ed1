using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.IO;

[Collection("Torch")]
public sealed class SafetensorsTests
{
    [Fact]
    public void SaveLoad_RoundTripsEveryTensorBitExactly()
    {
        using var dir = new TempDirectory();
        manual_seed(1);
        using var a = new Classifier();
        string path = dir.File("m.safetensors");
        ModelWeights.Save(a, path);
        using var b = new Classifier();
        ModelWeights.Load(b, path);
        foreach (var (name, t) in a.state_dict()) Assert.True(t.equal(b.state_dict()[name]).all().item<bool>(), name);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void PyTorchFormat_RoundTrips()
    {
        using var dir = new TempDirectory();
        manual_seed(2);
        using var a = new Classifier();
        string path = dir.File("m.pt");
        ModelWeights.Save(a, path);
        using var b = new Classifier();
        ModelWeights.Load(b, path);
        foreach (var (name, t) in a.state_dict()) Assert.True(t.equal(b.state_dict()[name]).all().item<bool>(), name);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(-4)]   // cut the last 4 bytes
    public void Load_TruncatedFile_NamesTheFile(int keep)
    {
        using var dir = new TempDirectory();
        string path = SavedModel(dir, out byte[] bytes);
        int length = keep >= 0 ? keep : bytes.Length + keep;
        File.WriteAllBytes(path, bytes[..length]);
        var e = Assert.Throws<DataFormatException>(() => ModelWeights.Load(new Classifier(), path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void ReadMetadata_ReadsTheHeaderAlone_AndNamesTheFileWhenItDoesNotFit()
    {
        using var dir = new TempDirectory();
        string path = dir.File("m.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = ones(1000) }, new Dictionary<string, string> { ["config"] = "{}" });
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;                                                  // damaged data: the header still reads, the tensors do not
        File.WriteAllBytes(path, bytes);
        Assert.Equal("{}", Safetensors.ReadMetadata(path)["config"]);
        Assert.Throws<DataFormatException>(() => Safetensors.Load(path));

        foreach (int keep in (int[])[0, 7, 20])
        {
            File.WriteAllBytes(path, bytes[..keep]);
            var e = Assert.Throws<DataFormatException>(() => Safetensors.ReadMetadata(path));
            Assert.Contains(path, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Assert.Contains("not found", Assert.Throws<DataFormatException>(() => Safetensors.ReadMetadata(dir.File("absent.safetensors"))).Message);
    }

    [Fact]
    public void Load_WrongArchitecture_ListsMismatchedTensors()
    {
        using var dir = new TempDirectory();
        string path = dir.File("other.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor>
        {
            ["layers.0.weight"] = zeros(4, 1, 3, 3),
            ["layers.0.bias"] = zeros(8),
            ["decoder.weight"] = zeros(2),
        });
        var e = Assert.Throws<DataFormatException>(() => ModelWeights.Load(new Classifier(), path));
        Assert.Contains("layers.0.weight: file has [4, 1, 3, 3], model needs [8, 1, 3, 3]", e.Message);
        Assert.Contains("missing layers.15.bias", e.Message);
        Assert.Contains("unexpected decoder.weight", e.Message);
    }

    static string SavedModel(TempDirectory dir, out byte[] bytes)
    {
        string path = dir.File("m.safetensors");
        using var model = new Classifier();
        ModelWeights.Save(model, path);
        bytes = File.ReadAllBytes(path);
        return path;
    }
}
