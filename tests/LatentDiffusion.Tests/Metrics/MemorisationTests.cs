using LatentDiffusion.Metrics;

namespace LatentDiffusion.Tests.Metrics;

public sealed class MemorisationTests
{
    /// <summary>The threshold (1st percentile of the held-out set's nearest-real distances) and the memorised fraction as numpy computes them.</summary>
    [Trait("Category", "Parity")]
    [Fact]
    public void Compute_NumpyFixture_MatchesReferenceTo1e9()
    {
        PrdcFixture f = PrdcFixture.Load();
        MemorisationResult r = Memorisation.Compute(Set(f.Fake), Set(f.Real), Set(f.HeldOut), distances: new PairwiseDistances(64, 100));
        Assert.Equal(f.Number("memorisation_threshold"), r.Threshold, 1e-9);
        Assert.Equal(f.Number("memorised_fraction"), r.MemorisedFraction, 1e-9);
        Assert.Equal(0.08, r.MemorisedFraction);   // the fixture's 20 near-copies among 250
        Assert.Equal(f.FakeNearest, r.FeatureNearest.Select(i => (long)i));
        // The closest pairs are the near-copies, closest first.
        Assert.Equal(16, r.Closest.Count);
        Assert.All(r.Closest, p => Assert.True(p.Generated >= 230, $"#{p.Generated} is not one of the copies"));
        Assert.True(r.Closest.Zip(r.Closest.Skip(1)).All(p => p.First.Distance <= p.Second.Distance));
    }

    /// <summary>The held-out set against itself sits at the percentile: the reference row of the metric.</summary>
    [Fact]
    public void Compute_HeldOutAsGenerated_IsThePercentile()
    {
        ImageFeatures train = Set(ManifoldMetricsTests.Gaussian(300, 8, seed: 1, shift: 0, "train"));
        ImageFeatures test = Set(ManifoldMetricsTests.Gaussian(200, 8, seed: 2, shift: 0, "test"));
        MemorisationResult r = Memorisation.Compute(test, train, test);
        // 1st percentile of 200 values: position 1.99, between the 2nd and 3rd smallest: 2 of 200 lie below.
        Assert.Equal(0.01, r.MemorisedFraction);
        Assert.Same(r.FeatureDistance, r.HeldOutDistance);
    }

    /// <summary>The reference computed once and the fraction from it alone (the tables' path) equal the full computation's (distances to the last bits of the float64 product, which may differ between two calls).</summary>
    [Fact]
    public void Reference_MemorisedFraction_EqualsCompute()
    {
        PrdcFixture f = PrdcFixture.Load();
        var distances = new PairwiseDistances(64, 100);
        MemorisationResult full = Memorisation.Compute(Set(f.Fake), Set(f.Real), Set(f.HeldOut), distances: distances);
        MemorisationReference reference = Memorisation.Reference(f.Real, f.HeldOut, distances: distances);
        Assert.Equal(full.Threshold, reference.Threshold, 1e-12);
        Assert.Equal(full.HeldOutDistance.Length, reference.HeldOutDistance.Length);
        Assert.All(full.HeldOutDistance.Zip(reference.HeldOutDistance), p => Assert.Equal(p.First, p.Second, 1e-12));
        Assert.Equal(full.MemorisedFraction, Memorisation.MemorisedFraction(reference, f.Fake, distances));
        // The full computation given the reference's held-out distances (part 3's closest pairs): the same result.
        MemorisationResult reused = Memorisation.Compute(Set(f.Fake), Set(f.Real), Set(f.HeldOut), distances: distances, heldOutDistance: reference.HeldOutDistance);
        Assert.Equal(full.Threshold, reused.Threshold, 1e-12);
        Assert.Equal(full.MemorisedFraction, reused.MemorisedFraction);
        Assert.Equal(full.Closest, reused.Closest);
        Assert.Throws<ArgumentException>(() => Memorisation.Compute(Set(f.Fake), Set(f.Real), Set(f.HeldOut), heldOutDistance: [1.0]));
        // The held-out set itself: its own distances, the percentile (0.01 as in Compute_HeldOutAsGenerated_IsThePercentile).
        FeatureMatrix train = ManifoldMetricsTests.Gaussian(300, 8, seed: 1, shift: 0, "train");
        FeatureMatrix test = ManifoldMetricsTests.Gaussian(200, 8, seed: 2, shift: 0, "test");
        Assert.Equal(0.01, Memorisation.MemorisedFraction(Memorisation.Reference(train, test), test));
    }

    /// <summary>Generated features of another width than the training set's are refused naming both sets.</summary>
    [Fact]
    public void MemorisedFraction_OtherWidth_NamesBothSets()
    {
        MemorisationReference reference = Memorisation.Reference(ManifoldMetricsTests.Gaussian(20, 8, seed: 1, shift: 0, "train"), ManifoldMetricsTests.Gaussian(10, 8, seed: 2, shift: 0, "test"));
        var e = Assert.Throws<ArgumentException>(() => Memorisation.MemorisedFraction(reference, ManifoldMetricsTests.Gaussian(10, 4, seed: 3, shift: 0, "gen")));
        Assert.Contains("gen", e.Message);
        Assert.Contains("train", e.Message);
    }

    [Fact]
    public void Compute_CopiedPixels_AreFoundAsExactCopies()
    {
        FeatureMatrix trainFeatures = ManifoldMetricsTests.Gaussian(10, 4, seed: 3, shift: 0, "train");
        var trainPixels = new byte[10 * ImageFeatures.ImageBytes];
        new Random(5).NextBytes(trainPixels);
        // Generated: training images 7 and 2 copied pixel for pixel, then one of noise.
        var genPixels = new byte[3 * ImageFeatures.ImageBytes];
        trainPixels.AsSpan(7 * ImageFeatures.ImageBytes, ImageFeatures.ImageBytes).CopyTo(genPixels);
        trainPixels.AsSpan(2 * ImageFeatures.ImageBytes, ImageFeatures.ImageBytes).CopyTo(genPixels.AsSpan(ImageFeatures.ImageBytes));
        new Random(6).NextBytes(genPixels.AsSpan(2 * ImageFeatures.ImageBytes));
        ImageFeatures train = Set(trainFeatures, trainPixels);
        ImageFeatures gen = Set(ManifoldMetricsTests.Gaussian(3, 4, seed: 4, shift: 0, "gen"), genPixels);
        MemorisationResult r = Memorisation.Compute(gen, train, train);
        Assert.Equal(7, r.PixelNearest[0]);
        Assert.Equal(2, r.PixelNearest[1]);
        Assert.Equal([0.0, 0.0], r.PixelDistance.Take(2));
        Assert.True(r.PixelDistance[2] > 1);
        Assert.Equal(2, r.ExactCopies);
    }

    /// <summary>numpy: np.quantile([3, 1, 4, 2], q) for q = 0, 0.01, 0.5, 0.99, 1 → 1, 1.03, 2.5, 3.97, 4.</summary>
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.01, 1.03)]
    [InlineData(0.5, 2.5)]
    [InlineData(0.99, 3.97)]
    [InlineData(1.0, 4.0)]
    public void Quantile_LinearInterpolation_MatchesNumpy(double q, double expected) =>
        Assert.Equal(expected, Memorisation.Quantile([3.0, 1.0, 4.0, 2.0], q), 1e-12);

    [Fact]
    public void Compute_DifferentWidths_Throws()
    {
        ImageFeatures a = Set(ManifoldMetricsTests.Gaussian(5, 4, 1, 0, "gen"));
        ImageFeatures b = Set(ManifoldMetricsTests.Gaussian(5, 8, 2, 0, "train"));
        var e = Assert.Throws<ArgumentException>(() => Memorisation.Compute(a, b, b));
        Assert.Contains("gen has 4-d features but train has 8-d", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(100.0)]
    [InlineData(double.NaN)]
    public void Config_PercentileOutOfRange_Throws(double percentile) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemorisationConfig(percentile).Validate());

    /// <summary>A feature set with blank (or the given) pixels and placeholder statistics: what the memorisation check reads.</summary>
    internal static ImageFeatures Set(FeatureMatrix features, byte[]? pixels = null) =>
        new(features.Name, features, pixels ?? new byte[features.Rows * ImageFeatures.ImageBytes],
            new FeatureStatistics(new double[features.Cols], Identity(features.Cols)));

    static double[] Identity(int d)
    {
        var m = new double[d * d];
        for (int i = 0; i < d; i++) m[i * d + i] = 1;
        return m;
    }
}
