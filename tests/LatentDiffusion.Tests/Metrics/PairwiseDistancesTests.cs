using LatentDiffusion.Metrics;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

public sealed class PairwiseDistancesTests
{
    /// <summary>The matrix-product form ‖x‖² + ‖y‖² − 2x·y against Σ (x − y)² summed directly, every tile shape.</summary>
    [Theory]
    [InlineData(1024, 4096)]
    [InlineData(5, 7)]
    [InlineData(1, 1)]
    public void ForEachTile_EveryPair_MatchesDirectDifferences(int tileRows, int tileCols)
    {
        FeatureMatrix a = ManifoldMetricsTests.Gaussian(23, 16, seed: 1, shift: 3, "a");
        FeatureMatrix b = ManifoldMetricsTests.Gaussian(31, 16, seed: 2, shift: 3, "b");
        using Tensor x = tensor(a.Data, [a.Rows, a.Cols], ScalarType.Float64);
        using Tensor y = tensor(b.Data, [b.Rows, b.Cols], ScalarType.Float64);
        var seen = new int[a.Rows, b.Rows];
        new PairwiseDistances(tileRows, tileCols).ForEachTile(x, y, sameSet: false, tile =>
        {
            Assert.True(tile.Rows <= tileRows && tile.Cols <= tileCols);
            for (int i = 0; i < tile.Rows; i++)
                for (int j = 0; j < tile.Cols; j++)
                {
                    int r = tile.RowStart + i, c = tile.ColStart + j;
                    seen[r, c]++;
                    double exact = Direct(a.Row(r), b.Row(c));
                    Assert.True(Math.Abs(tile.Row(i)[j] - exact) <= 1e-12 * exact, $"({r}, {c}): {tile.Row(i)[j]} vs {exact}");
                }
        });
        Assert.All(seen.Cast<int>(), count => Assert.Equal(1, count));
    }

    [Fact]
    public void ForEachTile_SameSet_DiagonalIsExactlyZero()
    {
        FeatureMatrix a = ManifoldMetricsTests.Gaussian(17, 8, seed: 3, shift: 50, "a");
        using Tensor x = tensor(a.Data, [a.Rows, a.Cols], ScalarType.Float64);
        new PairwiseDistances(4, 5).ForEachTile(x, x, sameSet: true, tile =>
        {
            for (int i = 0; i < tile.Rows; i++)
                for (int j = 0; j < tile.Cols; j++)
                    if (tile.RowStart + i == tile.ColStart + j) Assert.Equal(0.0, tile.Row(i)[j]);
                    else Assert.True(tile.Row(i)[j] > 0);
        });
    }

    [Fact]
    public void ForEachTile_BytePixels_AreExactIntegers()
    {
        var rng = new Random(4);
        var pixels = new byte[9 * 1024];
        rng.NextBytes(pixels);
        using Tensor x = tensor(pixels, [9, 1024], ScalarType.Byte);
        new PairwiseDistances(4, 4).ForEachTile(x, x, sameSet: false, tile =>
        {
            for (int i = 0; i < tile.Rows; i++)
                for (int j = 0; j < tile.Cols; j++)
                {
                    long exact = 0;
                    for (int p = 0; p < 1024; p++)
                    {
                        long d = pixels[(tile.RowStart + i) * 1024 + p] - pixels[(tile.ColStart + j) * 1024 + p];
                        exact += d * d;
                    }
                    Assert.Equal(exact, tile.Row(i)[j]);
                }
        });
    }

    /// <summary>The k-NN radius is the (k+1)-th smallest of the row, the point's own 0 counted: its k-th neighbour.</summary>
    [Fact]
    public void KthNeighbourSquared_PointsOnALine_IsTheKthNeighbour()
    {
        // Points at 0, 1, 3, 6, 10 on a line; the distances from each to the others, sorted:
        // 0: 1 3 6 10 · 1: 1 2 5 9 · 3: 2 3 3 7 · 6: 3 4 5 6 · 10: 4 7 9 10.
        double[] data = [0, 1, 3, 6, 10];
        using Tensor x = tensor(data, [5, 1], ScalarType.Float64);
        double[][] radii = new PairwiseDistances(2, 3).KthNeighbourSquared(x, [1, 3]);
        Assert.Equal([1, 1, 4, 9, 16], radii[0]);       // nearest neighbour, squared
        Assert.Equal([36, 25, 9, 25, 81], radii[1]);    // third neighbour, squared
    }

    [Trait("Category", "Parity")]
    [Fact]
    public void KthNeighbourSquared_NumpyFixture_MatchesReferenceRadii()
    {
        PrdcFixture f = PrdcFixture.Load();
        using Tensor x = tensor(f.Real.Data, [f.Real.Rows, f.Real.Cols], ScalarType.Float64);
        double[][] radii = new PairwiseDistances(64, 100).KthNeighbourSquared(x, [3, 5]);
        for (int i = 0; i < f.Real.Rows; i++)
        {
            Assert.Equal(f.RealRadiiK3[i], Math.Sqrt(radii[0][i]), 1e-12);
            Assert.Equal(f.RealRadiiK5[i], Math.Sqrt(radii[1][i]), 1e-12);
        }
    }

    [Trait("Category", "Parity")]
    [Fact]
    public void Nearest_NumpyFixture_MatchesArgminAndDistance()
    {
        PrdcFixture f = PrdcFixture.Load();
        using Tensor x = tensor(f.Fake.Data, [f.Fake.Rows, f.Fake.Cols], ScalarType.Float64);
        using Tensor y = tensor(f.Real.Data, [f.Real.Rows, f.Real.Cols], ScalarType.Float64);
        var (index, distance) = new PairwiseDistances(50, 64).Nearest(x, y);
        Assert.Equal(f.FakeNearest, index.Select(i => (long)i));
        for (int j = 0; j < index.Length; j++) Assert.Equal(f.FakeNearestDistance[j], distance[j], 1e-12);
    }

    [Fact]
    public void Constructor_NonPositiveTile_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PairwiseDistances(0, 10));

    static double Direct(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return sum;
    }
}
