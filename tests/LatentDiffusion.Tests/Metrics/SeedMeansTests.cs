using LatentDiffusion.Metrics;

namespace LatentDiffusion.Tests.Metrics;

/// <summary>The rows of several sampling seeds (series' table, guidance sweep): each number the mean, the range kept, one seed the row itself.</summary>
public sealed class SeedMeansTests
{
    static ManifoldResult Manifold(double coverage) => new(0.5, 0.6, 0.9, coverage, 1000, 100, new ManifoldConfig(), 1);

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void Problem_OutsideOneToTen_NamesTheOption(int seeds) =>
        Assert.Equal($"--seeds must be between 1 and 10 (got {seeds})", SeedMeans.Problem(seeds));

    [Fact]
    public void Problem_OneAndTen_AreNone()
    {
        Assert.Null(SeedMeans.Problem(1));
        Assert.Null(SeedMeans.Problem(SeedMeans.MaxSeeds));
    }

    [Fact]
    public void GeneratorFidMean_TwoSeeds_AveragesEveryNumberAndKeepsTheRange()
    {
        GeneratorFidRow Row(double fid, double coverage, string warning) =>
            new("Diffusion", "digits", fid, 2 * fid, fid / 100, fid / 0.5, 6.0) { Manifold = Manifold(coverage), MemorisedFraction = coverage / 10, Warnings = [warning] };
        GeneratorFidRow[] seeds = [Row(4, 0.4, "a"), Row(6, 0.6, "b")];
        GeneratorFidRow mean = GeneratorFid.Mean(seeds);
        Assert.Equal((5.0, 10.0, 0.05, 10.0), (mean.FidPreact, mean.FidFlatten, mean.RatioToRandom, mean.RatioToValidation));
        Assert.Equal(0.5, mean.Manifold!.Coverage, 1e-15);
        Assert.Equal(0.05, mean.MemorisedFraction!.Value, 1e-15);
        Assert.Equal((4.0, 6.0), mean.FidPreactRange);
        Assert.Equal(2, mean.Seeds);
        Assert.Equal(["a", "b"], mean.Warnings);
        Assert.Same(seeds[0], GeneratorFid.Mean([seeds[0]]));
        Assert.Equal((4.0, 4.0), seeds[0].FidPreactRange);
        Assert.Throws<ArgumentException>(() => GeneratorFid.Mean([seeds[0], seeds[1] with { Name = "VAE" }]));
    }

    /// <summary>A guidance row of two seeds: each number the mean of the seeds' own (the worst digit too), each digit's grades averaged.</summary>
    [Fact]
    public void GuidanceRowMean_TwoSeeds_AveragesTheSeedsNumbers()
    {
        GuidanceRow Row(int correct0, double fid0, double fid1, double seconds) => new(2,
            [new DigitGrade(0, 10, correct0, 0.9, fid0) { Manifold = Manifold(0.4) }, new DigitGrade(1, 10, 10, 0.8, fid1) { Manifold = Manifold(0.6) }], seconds);
        GuidanceRow a = Row(6, 10, 20, 3), b = Row(8, 30, 10, 5);
        GuidanceRow mean = GuidanceRow.Mean([a, b]);
        Assert.Equal((a.Accuracy + b.Accuracy) / 2, mean.Accuracy, 1e-15);
        Assert.Equal((0.6 + 0.8) / 2, mean.WorstAccuracy, 1e-15);
        Assert.Equal((15.0 + 20.0) / 2, mean.MeanFid, 1e-12);
        Assert.Equal((20.0 + 30.0) / 2, mean.WorstFid, 1e-12);   // each seed's worst, averaged (not the worst of the digits' means, 20)
        Assert.Equal((15.0, 20.0), mean.MeanFidRange);
        Assert.Equal((a.Accuracy, b.Accuracy), mean.AccuracyRange);
        Assert.Equal(0.5, mean.Mean(d => d.Manifold?.Coverage)!.Value, 1e-15);
        Assert.Equal(4, mean.Seconds);
        Assert.Equal((20.0, 20, 14), (mean.Digits[0].Fid, mean.Digits[0].Count, mean.Digits[0].Correct));
        Assert.Same(a, GuidanceRow.Mean([a]));
        Assert.Throws<ArgumentException>(() => GuidanceRow.Mean([a, b with { Guidance = 3 }]));
    }
}
