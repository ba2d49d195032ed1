using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;

namespace LatentDiffusion.Tests.Metrics;

[Collection("Torch")]
public sealed class SampleQualityTests : IDisposable
{
    readonly Classifier classifier = TestPaths.LoadFixtureClassifier();

    public void Dispose() => classifier.Dispose();

    /// <summary>A side with fewer than k + 1 images is refused naming the side's file and k.</summary>
    [Fact]
    public void Compute_FewImages_NamesTheSideAndK()
    {
        using var dir = new TempDirectory();
        string few = FidCalculatorTests.WriteIdx(dir.Path, "few-idx3-ubyte", SyntheticData.Split(3, seed: 1).Images);
        string many = FidCalculatorTests.WriteIdx(dir.Path, "many-idx3-ubyte", SyntheticData.Split(40, seed: 2).Images);
        var quality = new SampleQuality(classifier);
        var e = Assert.Throws<DataFormatException>(() => quality.Compute(FidSource.Detect(few), FidSource.Detect(many), FidSource.Detect(many)));
        Assert.Contains(few, e.Message);
        Assert.Contains("k = 3", e.Message);
        e = Assert.Throws<DataFormatException>(() => quality.Compute(FidSource.Detect(many), FidSource.Detect(few), FidSource.Detect(many)));
        Assert.Contains(few, e.Message);
        Assert.Contains("k = 5", e.Message);
    }

    /// <summary>All metrics of a set against itself: precision = recall = coverage = 1, and every digit its own nearest neighbour.</summary>
    [Fact]
    public void Compute_SetAgainstItself_IsPerfectAndAllCopies()
    {
        using var dir = new TempDirectory();
        string path = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(60, seed: 5).Images);
        string heldOut = FidCalculatorTests.WriteIdx(dir.Path, "b-idx3-ubyte", SyntheticData.Split(50, seed: 6).Images);
        SampleQualityResult r = new SampleQuality(classifier).Compute(FidSource.Detect(path), FidSource.Detect(path), FidSource.Detect(heldOut));
        Assert.Equal((1.0, 1.0, 1.0), (r.Manifold.Precision, r.Manifold.Recall, r.Manifold.Coverage));
        Assert.Equal(60, r.Memorisation.ExactCopies);
        Assert.Equal(1.0, r.Memorisation.MemorisedFraction);
        Assert.Equal(Enumerable.Range(0, 60), r.Memorisation.PixelNearest);
        Assert.InRange(r.Fid.Fid, -1e-6, 1e-6);
    }
}
