using LatentDiffusion.Data;

namespace LatentDiffusion.Tests.Data;

/// <summary>The perceptual classifier's note: none for the same data or a file that records none; else one line naming both.</summary>
public sealed class DataMatchTests
{
    static DatasetInfo Info(string name, char hash) => new(name, "/data/" + name, 1, 32, ["0", "1"], new string(hash, 64), "the IDX files");

    [Fact]
    public void PerceptualClassifierNote_SameDataOrNoRecord_IsNull()
    {
        Assert.Null(DataMatch.PerceptualClassifierNote(Info("MNIST", 'a'), "c.safetensors", Info("MNIST", 'a')));
        Assert.Null(DataMatch.PerceptualClassifierNote(null, "c.safetensors", Info("MNIST", 'a')));
    }

    [Fact]
    public void PerceptualClassifierNote_OtherData_IsOneLineNamingBoth()
    {
        Assert.Equal("c.safetensors was trained on Fashion-MNIST, not MNIST; its features still define the perceptual term",
            DataMatch.PerceptualClassifierNote(Info("Fashion-MNIST", 'b'), "c.safetensors", Info("MNIST", 'a')));
        string sameName = DataMatch.PerceptualClassifierNote(Info("pets", 'b'), "c.safetensors", Info("pets", 'a'))!;   // two folders called pets
        Assert.Contains("sha256 bbbbbbbbbbbb", sameName);
        Assert.Contains("sha256 aaaaaaaaaaaa", sameName);
        Assert.DoesNotContain('\n', sameName);
    }
}
