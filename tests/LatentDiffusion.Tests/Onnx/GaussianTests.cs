using LatentDiffusion.Onnx.Sampling;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>ldm-lite's noise: seeded, reproducible, and N(0, 1) in its first four moments and its tails.</summary>
public sealed class GaussianTests
{
    [Fact]
    public void Next_SameSeed_SameDraws()
    {
        Assert.Equal(new Gaussian(3).Next(101), new Gaussian(3).Next(101));
        Assert.NotEqual(new Gaussian(3).Next(10), new Gaussian(4).Next(10));
    }

    [Fact]
    public void SplitMix64_FromZero_GivesTheReferenceFirstOutput()
    {
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, Gaussian.SplitMix64(ref state));           // Vigna's splitmix64.c, seed 0
    }

    [Fact]
    public void Next_MillionDraws_HaveTheMomentsAndTailsOfAStandardNormal()
    {
        float[] x = new Gaussian(0).Next(1_000_000);
        double mean = x.Average(v => (double)v);
        double variance = x.Average(v => (v - mean) * (v - mean));
        double skew = x.Average(v => Math.Pow(v - mean, 3)) / Math.Pow(variance, 1.5);
        double kurtosis = x.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
        double beyond2 = x.Count(v => Math.Abs(v) > 2) / (double)x.Length;           // 4.55 % for N(0, 1)
        Assert.InRange(mean, -0.005, 0.005);                                           // ±5 standard errors (0.001)
        Assert.InRange(variance, 0.993, 1.007);                                        // standard error √2/1000 ≈ 0.0014
        Assert.InRange(skew, -0.012, 0.012);                                           // standard error √6/1000 ≈ 0.0024
        Assert.InRange(kurtosis, 2.975, 3.025);                                        // standard error √24/1000 ≈ 0.005
        Assert.InRange(beyond2, 0.0445, 0.0465);
    }

    [Fact]
    public void Next_NeighbouringDraws_AreUncorrelated()
    {
        float[] x = new Gaussian(1).Next(1_000_001);
        double lag1 = Enumerable.Range(0, x.Length - 1).Average(i => (double)x[i] * x[i + 1]);
        double lag2 = Enumerable.Range(0, x.Length - 2).Average(i => (double)x[i] * x[i + 2]);
        Assert.InRange(lag1, -0.005, 0.005);                                           // the cos/sin pair of one Box–Muller draw
        Assert.InRange(lag2, -0.005, 0.005);
    }
}
