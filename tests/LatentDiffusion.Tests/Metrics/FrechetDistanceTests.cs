using LatentDiffusion.Metrics;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

public sealed class FrechetDistanceTests(ITestOutputHelper output)
{
    [Trait("Category", "Parity")]
    [Theory]
    [MemberData(nameof(FidFixtures.Indices), MemberType = typeof(FidFixtures))]
    public void Compute_FixtureCases_AgreeWithScipySqrtmToOneMicroRelative(int index)
    {
        FidFixtures.Case c = FidFixtures.Load(index);
        using Tensor a = c.MatrixA(), b = c.MatrixB();
        double fid = FrechetDistance.Compute(FeatureStatistics.FromFeatures(a), FeatureStatistics.FromFeatures(b));
        double relative = Math.Abs(fid - c.ScipyFid) / c.ScipyFid;
        output.WriteLine($"case {index} ({c.RowsA}x{c.Dim} vs {c.RowsB}x{c.Dim}{(c.Note.Length > 0 ? ", " + c.Note : "")}): ours {fid:R}, scipy {c.ScipyFid:R}, relative {relative:E2}");
        Assert.True(relative <= 1e-6, $"relative difference {relative:E3}");
    }

    [Theory]
    [MemberData(nameof(FidFixtures.Indices), MemberType = typeof(FidFixtures))]
    public void Compute_SameFeatures_IsZero(int index)
    {
        FidFixtures.Case c = FidFixtures.Load(index);
        using Tensor a = c.MatrixA();
        FeatureStatistics stats = FeatureStatistics.FromFeatures(a);
        double fid = FrechetDistance.Compute(stats, FeatureStatistics.FromFeatures(a));
        output.WriteLine($"case {index}: FID(A, A) = {fid:E3}");
        Assert.True(Math.Abs(fid) <= 1e-9, $"FID(A, A) = {fid:E3}");
    }

    [Fact]
    public void Compute_PermutedRows_IsUnchanged()
    {
        FidFixtures.Case c = FidFixtures.Load(1);
        using Tensor a = c.MatrixA(), b = c.MatrixB();
        var rng = new Random(7);
        long[] order = Enumerable.Range(0, (int)c.RowsA).Select(i => (long)i).OrderBy(_ => rng.Next()).ToArray();
        using Tensor index = tensor(order);
        using Tensor shuffled = a.index_select(0, index);
        FeatureStatistics statsB = FeatureStatistics.FromFeatures(b);
        double original = FrechetDistance.Compute(FeatureStatistics.FromFeatures(a), statsB);
        double permuted = FrechetDistance.Compute(FeatureStatistics.FromFeatures(shuffled), statsB);
        Assert.True(Math.Abs(original - permuted) / original <= 1e-9, $"{original:R} vs {permuted:R}");
    }

    [Fact]
    public void Compute_IsSymmetric()
    {
        FidFixtures.Case c = FidFixtures.Load(0);
        using Tensor a = c.MatrixA(), b = c.MatrixB();
        FeatureStatistics sa = FeatureStatistics.FromFeatures(a), sb = FeatureStatistics.FromFeatures(b);
        double ab = FrechetDistance.Compute(sa, sb), ba = FrechetDistance.Compute(sb, sa);
        Assert.True(Math.Abs(ab - ba) / ab <= 1e-12, $"{ab:R} vs {ba:R}");
    }

    [Fact]
    public void Compute_DiagonalCovariances_MatchesClosedForm()
    {
        // Commuting covariances: d² = ‖μ₁ − μ₂‖² + Σᵢ (√aᵢ − √bᵢ)².
        double[] a = [4, 1, 0.25, 9], b = [1, 1, 1, 0];
        double[] mu1 = [1, 0, 0, 2], mu2 = [3, 0, 1, 2];
        var s1 = new FeatureStatistics(mu1, Diagonal(a));
        var s2 = new FeatureStatistics(mu2, Diagonal(b));
        double expected = 4 + 1 + a.Zip(b, (x, y) => Math.Pow(Math.Sqrt(x) - Math.Sqrt(y), 2)).Sum();
        Assert.Equal(expected, FrechetDistance.Compute(s1, s2), 12);
    }

    [Fact]
    public void Compute_DifferentDimensions_Throws()
    {
        var s1 = new FeatureStatistics([0, 0], Diagonal([1, 1]));
        var s2 = new FeatureStatistics([0, 0, 0], Diagonal([1, 1, 1]));
        var e = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(s1, s2));
        Assert.Contains("2-d", e.Message);
    }

    static double[] Diagonal(double[] d)
    {
        var m = new double[d.Length * d.Length];
        for (int i = 0; i < d.Length; i++) m[i * d.Length + i] = d[i];
        return m;
    }
}
