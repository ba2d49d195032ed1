using LatentDiffusion.Data;

namespace LatentDiffusion.Tests.Data;

/// <summary>The perceptual classifier's note and a generator's data problem: none for the same data or a file that records none; else one line naming both.</summary>
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

    [Fact]
    public void TrainedOnProblem_SameDataOrNoRecord_IsNull()
    {
        Assert.Null(DataMatch.TrainedOnProblem("model", Info("MNIST", 'a'), "g.safetensors", Info("MNIST", 'a')));
        Assert.Null(DataMatch.TrainedOnProblem("model", null, "g.safetensors", Info("unknown", 'b')));   // any MNIST-layout files
    }

    /// <summary>A model that records no data is MNIST's (every model from before data were recorded): refused for a named other dataset or a folder.</summary>
    [Fact]
    public void NoRecord_OtherNamedData_IsOneLine()
    {
        string problem = DataMatch.TrainedOnProblem("model", null, "g.safetensors", Info("Fashion-MNIST", 'b'))!;
        Assert.Contains("g.safetensors records no data", problem);
        Assert.Contains("not of Fashion-MNIST", problem);
        Assert.NotNull(DataMatch.TrainedOnProblem("model", null, "g.safetensors", Info("pets", 'b')));
        var shape = new LatentDiffusion.Models.ClassifierConfig();
        Assert.Contains("another dataset's classifier", DataMatch.ClassifierProblem(shape, null, "c.safetensors", Info("Fashion-MNIST", 'b') with { ClassNames = KnownDataset.Digits }, sameData: true));
        Assert.Null(DataMatch.ClassifierProblem(shape, null, "c.safetensors", Info("MNIST", 'a') with { ClassNames = KnownDataset.Digits }, sameData: true));
        Assert.Null(DataMatch.ClassifierProblem(shape, null, "c.safetensors", Info("Fashion-MNIST", 'b') with { ClassNames = KnownDataset.Digits }));   // a perceptual net: any data
    }

    [Fact]
    public void TrainedOnProblem_OtherData_IsOneLineNamingBoth()
    {
        Assert.Equal("the model g.safetensors was trained on Fashion-MNIST, not MNIST; give the data it was trained on (--data) or a model trained on this data",
            DataMatch.TrainedOnProblem("model", Info("Fashion-MNIST", 'b'), "g.safetensors", Info("MNIST", 'a')));
        string sameName = DataMatch.TrainedOnProblem("model", Info("pets", 'b'), "g.safetensors", Info("pets", 'a'))!;
        Assert.Contains("sha256 bbbbbbbbbbbb", sameName);
        Assert.Contains("sha256 aaaaaaaaaaaa", sameName);
        Assert.DoesNotContain('\n', sameName);
    }
}
