using LatentDiffusion.Metrics;

namespace LatentDiffusion.Tests.Metrics;

public sealed class ManifoldMetricsTests
{
    /// <summary>Precision and recall (k = 3), density and coverage (k = 5) as clovaai's compute_prdc gives them in numpy.</summary>
    [Trait("Category", "Parity")]
    [Theory]
    [InlineData(PairwiseDistances.DefaultTileRows, PairwiseDistances.DefaultTileCols)]
    [InlineData(7, 13)]   // tiles that divide neither set: the per-row and per-column reductions cross tile edges
    public void Compute_NumpyFixture_MatchesReferenceTo1e9(int tileRows, int tileCols)
    {
        PrdcFixture f = PrdcFixture.Load();
        ManifoldResult r = ManifoldMetrics.Compute(f.Real, f.Fake, distances: new PairwiseDistances(tileRows, tileCols));
        Assert.Equal(f.Number("precision"), r.Precision, 1e-9);
        Assert.Equal(f.Number("recall"), r.Recall, 1e-9);
        Assert.Equal(f.Number("density"), r.Density, 1e-9);
        Assert.Equal(f.Number("coverage"), r.Coverage, 1e-9);
        Assert.Equal(3, f.Manifest.GetProperty("precision_recall_k").GetInt32());
        Assert.Equal(5, f.Manifest.GetProperty("density_coverage_k").GetInt32());
        Assert.Equal((300, 250), (r.RealCount, r.FakeCount));
        // Non-trivial values: the fixture separates the metrics from each other and from 0 and 1.
        Assert.All([r.Precision, r.Recall, r.Density, r.Coverage], v => Assert.InRange(v, 0.05, 0.95));
    }

    [Fact]
    public void Compute_IdenticalSets_PrecisionRecallCoverageAreOne()
    {
        FeatureMatrix x = Gaussian(200, 8, seed: 1, shift: 0, "real");
        var copy = new FeatureMatrix((double[])x.Data.Clone(), x.Rows, x.Cols, "fake");
        ManifoldResult r = ManifoldMetrics.Compute(x, copy);
        Assert.Equal(1.0, r.Precision);
        Assert.Equal(1.0, r.Recall);
        Assert.Equal(1.0, r.Coverage);
        // Each fake point lies in its twin's ball and in the balls of the real points that have its twin among their k
        // nearest: k balls on average, so density is near 1.
        Assert.InRange(r.Density, 0.5, 1.5);
    }

    [Fact]
    public void Compute_FarApartSets_AllZero()
    {
        FeatureMatrix real = Gaussian(100, 8, seed: 1, shift: 0, "real");
        FeatureMatrix fake = Gaussian(80, 8, seed: 2, shift: 1000, "fake");
        ManifoldResult r = ManifoldMetrics.Compute(real, fake);
        Assert.Equal((0.0, 0.0, 0.0, 0.0), (r.Precision, r.Recall, r.Density, r.Coverage));
    }

    [Fact]
    public void Compute_DifferentWidths_NamesBothSets()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ManifoldMetrics.Compute(Gaussian(20, 8, 1, 0, "real"), Gaussian(20, 4, 2, 0, "fake")));
        Assert.Contains("real has 8-d features but fake has 4-d", e.Message);
    }

    [Theory]
    [InlineData(5, 20, "real has 5 feature vector(s): the real manifold with k = 5 needs at least k + 1 = 6")]
    [InlineData(20, 3, "fake has 3 feature vector(s): the fake manifold (recall) with k = 3 needs at least k + 1 = 4")]
    [InlineData(0, 20, "real has 0 feature vector(s)")]
    [InlineData(20, 0, "fake has 0 feature vector(s)")]
    public void Compute_FewerThanKPlusOne_NamesTheSideAndK(int realRows, int fakeRows, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ManifoldMetrics.Compute(Gaussian(realRows, 4, 1, 0, "real"), Gaussian(fakeRows, 4, 2, 0, "fake")));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Compute_ExactlyKPlusOne_Works()
    {
        ManifoldResult r = ManifoldMetrics.Compute(Gaussian(6, 4, 1, 0, "real"), Gaussian(4, 4, 2, 0, "fake"));
        Assert.InRange(r.Precision, 0, 1);
    }

    [Fact]
    public void FeatureMatrix_NaN_NamesRowAndFeature()
    {
        var data = new double[12];
        data[7] = double.NaN;
        var e = Assert.Throws<ArgumentException>(() => new FeatureMatrix(data, 3, 4, "A"));
        Assert.Contains("A: feature 3 of row 1 is NaN", e.Message);
    }

    [Fact]
    public void FeatureMatrix_WrongLength_Throws() =>
        Assert.Throws<ArgumentException>(() => new FeatureMatrix(new double[10], 3, 4, "A"));

    /// <summary><paramref name="rows"/> x <paramref name="cols"/> draws of N(shift, 1), from a seeded System.Random (Box-Muller).</summary>
    internal static FeatureMatrix Gaussian(int rows, int cols, int seed, double shift, string name)
    {
        var rng = new Random(seed);
        var data = new double[rows * cols];
        for (int i = 0; i < data.Length; i++)
            data[i] = shift + Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return new FeatureMatrix(data, rows, cols, name);
    }
}
