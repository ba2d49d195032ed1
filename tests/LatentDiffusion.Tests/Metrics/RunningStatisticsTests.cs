using LatentDiffusion.Metrics;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

public sealed class RunningStatisticsTests
{
    [Fact]
    public void Add_UnevenBatches_EqualsTwoPassStatistics()
    {
        FidFixtures.Case c = FidFixtures.Load(1);
        using Tensor x = c.MatrixA();                                         // (2000, 128)
        FeatureStatistics twoPass = FeatureStatistics.FromFeatures(x);
        using var running = new RunningStatistics();
        long start = 0;
        foreach (long size in new long[] { 1, 7, 0, 100, 892, 1000 })
        {
            using Tensor batch = x.narrow(0, start, size);
            running.Add(batch);
            start += size;
        }
        Assert.Equal(2000, running.Count);
        FeatureStatistics streamed = running.ToStatistics();
        AssertClose(twoPass.Mu, streamed.Mu, 1e-12);
        AssertClose(twoPass.Sigma, streamed.Sigma, 1e-12);
        Assert.Equal(2000, streamed.Count);
    }

    [Fact]
    public void Add_FeaturesFarFromZero_KeepsCovariancePrecision()
    {
        // Σx² − Nμ² would lose every digit here; centring each batch does not. The covariance ignores the shift.
        FidFixtures.Case c = FidFixtures.Load(0);
        using Tensor x = c.MatrixA();                                         // (500, 16)
        using Tensor shifted = x + 1e7;
        FeatureStatistics reference = FeatureStatistics.FromFeatures(x);
        using var running = new RunningStatistics();
        for (long s = 0; s < 500; s += 64)
        {
            using Tensor batch = shifted.narrow(0, s, Math.Min(64, 500 - s));
            running.Add(batch);
        }
        FeatureStatistics streamed = running.ToStatistics();
        AssertClose(reference.Sigma, streamed.Sigma, 1e-7);
        AssertClose(reference.Mu.Select(m => m + 1e7).ToArray(), streamed.Mu, 1e-15);
    }

    [Fact]
    public void ToStatistics_FewerThanTwoVectors_Throws()
    {
        using var running = new RunningStatistics();
        using Tensor one = ones(1, 4);
        running.Add(one);
        Assert.Throws<InvalidOperationException>(() => running.ToStatistics());
    }

    [Fact]
    public void Add_ChangingDimension_Throws()
    {
        using var running = new RunningStatistics();
        using Tensor a = ones(3, 4), b = ones(3, 5);
        running.Add(a);
        Assert.Throws<ArgumentException>(() => running.Add(b));
    }

    /// <summary>Element-wise agreement relative to the largest magnitude in <paramref name="expected"/>.</summary>
    static void AssertClose(double[] expected, double[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale;
        Assert.True(worst <= relative, $"worst relative difference {worst:E3} > {relative:E0}");
    }
}
