using LatentDiffusion.Metrics;

namespace LatentDiffusion.Tests.Metrics;

public sealed class SamplerComparisonTests
{
    static SamplerRow Row(double fid, double? coverage, double? memorised, double seconds = 10) =>
        new("α-deblending", "Heun", 10, 19, true, 100, fid, 2 * fid, fid / 0.5, seconds)
        {
            Manifold = coverage is double c ? new ManifoldResult(0.5, 0.6, 0.9, c, 1000, 100, new ManifoldConfig(), 1) : null,
            MemorisedFraction = memorised,
        };

    /// <summary>A row of several seeds: every number the mean, the FID's range from the single-seed rows, which are kept.</summary>
    [Fact]
    public void Mean_ThreeSeeds_AveragesAndKeepsTheRange()
    {
        SamplerRow[] seeds = [Row(4, 0.4, 0.01, 9), Row(5, 0.5, 0.02, 10), Row(6, 0.6, 0.03, 11)];
        SamplerRow mean = SamplerComparison.Mean(seeds);
        Assert.Equal(5, mean.FidPreact);
        Assert.Equal(10, mean.FidFlatten);
        Assert.Equal(10, mean.RatioToValidation);
        Assert.Equal(10, mean.Seconds);
        Assert.Equal(0.5, mean.Manifold!.Coverage, 1e-15);
        Assert.Equal(0.02, mean.MemorisedFraction!.Value, 1e-15);
        Assert.Equal((4.0, 6.0), mean.FidPreactRange);
        Assert.Equal(3, mean.Seeds);
        Assert.Equal(seeds, mean.PerSeed);
        Assert.Equal(seeds[0].Label, mean.Label);
    }

    [Fact]
    public void Mean_OneSeed_IsTheRowItself()
    {
        SamplerRow row = Row(4, 0.4, 0.01);
        Assert.Same(row, SamplerComparison.Mean([row]));
        Assert.Equal(1, row.Seeds);
        Assert.Equal((4.0, 4.0), row.FidPreactRange);
    }

    /// <summary>A seed without the metrics beyond FID (too few digits) leaves the mean without them rather than averaging part of the seeds.</summary>
    [Fact]
    public void Mean_SeedWithoutMetrics_HasNone()
    {
        SamplerRow mean = SamplerComparison.Mean([Row(4, 0.4, 0.01), Row(5, null, null)]);
        Assert.Null(mean.Manifold);
        Assert.Null(mean.MemorisedFraction);
        Assert.Equal(4.5, mean.FidPreact);
    }

    [Fact]
    public void Mean_DifferentSettings_Throws()
    {
        Assert.Throws<ArgumentException>(() => SamplerComparison.Mean([Row(4, 0.4, 0.01), Row(5, 0.5, 0.01) with { Steps = 20 }]));
        Assert.Throws<ArgumentException>(() => SamplerComparison.Mean([]));
    }
}
