using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

/// <summary>
/// What statistics files may hold and what too few images mean: a sigma that is not a covariance (not symmetric, not
/// positive semi-definite) is refused naming the file; a rank-deficient one from few images loads, with a warning that
/// says why its FID is not comparable — in <c>ldm fid</c> and in every generator row of the parts' FID tables.
/// </summary>
[Collection("Torch")]
public sealed class FeatureStatisticsTests
{
    const int D = 128;

    static double[] Identity(double scale) => Enumerable.Range(0, D * D).Select(k => k / D == k % D ? scale : 0.0).ToArray();

    static string Save(TempDirectory dir, string name, double[] sigma)
    {
        string path = dir.File(name);
        new FeatureStatistics(new double[D], sigma).Save(path);
        return path;
    }

    [Fact]
    public void Load_MinusIdentity_IsRefusedAsNotPositiveSemiDefinite()
    {
        using var dir = new TempDirectory();
        string path = Save(dir, "neg.npz", Identity(-1));
        var e = Assert.Throws<DataFormatException>(() => FeatureStatistics.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not positive semi-definite", e.Message);
    }

    [Fact]
    public void Load_AsymmetricSigma_IsRefused()
    {
        using var dir = new TempDirectory();
        double[] sigma = Identity(1);
        sigma[1] = 0.5;                                            // Σ₀₁ = 0.5, Σ₁₀ = 0
        var e = Assert.Throws<DataFormatException>(() => FeatureStatistics.Load(Save(dir, "asym.npz", sigma)));
        Assert.Contains("not symmetric", e.Message);
    }

    [Fact]
    public void Load_RoundingSizedDefects_AndTheZeroMatrix_AreAccepted()
    {
        using var dir = new TempDirectory();
        double[] sigma = Identity(1);
        sigma[1] = 1e-9;                                           // asymmetry 1e-9 of the largest entry
        sigma[D * D - 1] = -1e-9;                                   // an eigenvalue −1e-9 of the largest
        Assert.Equal(D, FeatureStatistics.Load(Save(dir, "close.npz", sigma)).Dim);
        Assert.Equal(D, FeatureStatistics.Load(Save(dir, "zero.npz", new double[D * D])).Dim);
    }

    [Fact]
    public void Load_RankDeficientCovarianceOfFewVectors_LoadsAndWarns()
    {
        using var dir = new TempDirectory();
        manual_seed(3);
        using Tensor features = randn(20, D).mul(5).add(2);
        FeatureStatistics few = FeatureStatistics.FromFeatures(features);   // rank ≤ 19: eigenvalues at rounding level, some below 0
        string path = dir.File("few.npz");
        few.Save(path);
        FeatureStatistics loaded = FeatureStatistics.Load(path);
        string? warning = loaded.SampleSizeWarning("A");
        Assert.NotNull(warning);
        Assert.Contains("only 20 images for 128-d features", warning);
        Assert.Contains("rank-deficient (rank ≤ 19 < 128)", warning);
        Assert.Contains("biased upward for small N", warning);
    }

    [Fact]
    public void SampleSizeWarning_OnlyUpToTheDimension_AndNotForUnknownCounts()
    {
        FeatureStatistics Of(long? n) => new(new double[D], Identity(1), n is long v ? new StatisticsProvenance(v, null, null) : null);
        Assert.NotNull(Of(2).SampleSizeWarning("A"));
        Assert.NotNull(Of(D).SampleSizeWarning("A"));               // N = D: rank ≤ D − 1, still deficient
        Assert.Null(Of(D + 1).SampleSizeWarning("A"));
        Assert.Null(Of(null).SampleSizeWarning("A"));               // a pytorch-fid file: N unknown
    }

    [Fact]
    public void GeneratorFidTable_RowsOfFewImages_CarryTheWarning()
    {
        using Classifier classifier = TestPaths.LoadFixtureClassifier();
        MnistData data = SyntheticData.Dataset(300, 200);
        using Tensor many = data.Test.ToInputs();
        using Tensor few = many.narrow(0, 0, 50);
        var rows = GeneratorFid.Table(classifier, data, [("Few", "50 images", few, null), ("Many", "200 images", many, null)]);
        Assert.Contains(rows.Single(r => r.Name == "Few").Warnings, w => w.Contains("row Few: only 50 images"));
        Assert.All(rows.Where(r => r.Name != "Few"), r => Assert.Empty(r.Warnings));   // 200 test images, 300 training images
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void GeneratorFidTable_WithASharedScorer_GivesTheSameRows_AndScoresValidationOnce()
    {
        using Classifier classifier = TestPaths.LoadFixtureClassifier();
        MnistData data = SyntheticData.Dataset(300, 200);
        using Tensor images = data.Test.ToInputs();
        using Tensor half = images.narrow(0, 0, 150);
        var alone = GeneratorFid.Table(classifier, data, [("Half", "150 images", half, null)]);
        var scorer = new FidScorer(classifier, data);
        FidScore validation = scorer.ValidationScore;
        var shared = GeneratorFid.Table(classifier, data, [("Half", "150 images", half, null)], scorer: scorer);
        Assert.Same(validation, scorer.ValidationScore);                       // computed once, reused by the table
        Assert.Equal(alone.Select(r => (r.Name, r.FidPreact, r.FidFlatten, r.RatioToValidation)), shared.Select(r => (r.Name, r.FidPreact, r.FidFlatten, r.RatioToValidation)));
        Assert.Equal(scorer.Fid(half).Preact, shared.Single(r => r.Name == "Half").FidPreact);
        Assert.Throws<ArgumentException>(() => GeneratorFid.Table(classifier, SyntheticData.Dataset(300, 200), [], scorer: scorer));
    }
}
