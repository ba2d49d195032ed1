using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>One generated digit and the training image nearest to it in feature space.</summary>
/// <param name="Generated">Index in the generated set.</param>
/// <param name="Training">Index of its nearest training image (feature space).</param>
/// <param name="Distance">Their Euclidean distance in feature space.</param>
public sealed record NearestPair(int Generated, int Training, double Distance);

/// <summary>
/// Whether a generator copies its training set.
/// </summary>
/// <param name="FeatureNearest">For every generated digit, the index of its nearest training image in feature space.</param>
/// <param name="FeatureDistance">… and the distance to it (classifier features).</param>
/// <param name="PixelNearest">For every generated digit, the index of its nearest training image in pixel space.</param>
/// <param name="PixelDistance">… and the distance to it (32x32 pixels in [0, 1]; 0 is an exact copy).</param>
/// <param name="HeldOutDistance">For every held-out real image (the test set), its feature distance to the nearest training image.</param>
/// <param name="Threshold">The <see cref="MemorisationConfig.Percentile"/>-th percentile of <paramref name="HeldOutDistance"/>.</param>
/// <param name="MemorisedFraction">The fraction of generated digits whose <paramref name="FeatureDistance"/> is below <paramref name="Threshold"/>.</param>
/// <param name="Closest">The generated digits nearest to a training image (feature space), closest first.</param>
public sealed record MemorisationResult(
    int[] FeatureNearest, double[] FeatureDistance, int[] PixelNearest, double[] PixelDistance,
    double[] HeldOutDistance, double Percentile, double Threshold, double MemorisedFraction,
    IReadOnlyList<NearestPair> Closest, double Seconds)
{
    /// <summary>The median of the generated digits' nearest-training distances (feature space).</summary>
    public double MedianFeatureDistance => Memorisation.Quantile(FeatureDistance, 0.5);

    /// <summary>The median of the held-out images' nearest-training distances: what a new real digit looks like.</summary>
    public double MedianHeldOutDistance => Memorisation.Quantile(HeldOutDistance, 0.5);

    /// <summary>Generated digits that are pixel-exact copies of a training image.</summary>
    public int ExactCopies => PixelDistance.Count(d => d == 0);
}

/// <summary>
/// The memorisation reference of one training set, computed once and shared by every generated set scored against it:
/// the held-out images' nearest-training distances (feature space) and the threshold τ they give.
/// </summary>
/// <param name="Training">The training set's features.</param>
/// <param name="HeldOut">The held-out set's features (the test set).</param>
/// <param name="HeldOutDistance">For every held-out image, its feature distance to the nearest training image.</param>
/// <param name="Threshold">The <paramref name="Percentile"/>-th percentile of <paramref name="HeldOutDistance"/>.</param>
public sealed record MemorisationReference(FeatureMatrix Training, FeatureMatrix HeldOut, double[] HeldOutDistance, double Percentile, double Threshold, double Seconds);

/// <param name="Percentile">The held-out percentile that sets the threshold (default 1: a generated digit counts as memorised when it is closer to the training set than 99% of real test digits are).</param>
/// <param name="ClosestPairs">How many of the closest (generated, training) pairs to keep for the figure (default 16).</param>
public sealed record MemorisationConfig(double Percentile = 1.0, int ClosestPairs = 16)
{
    public void Validate()
    {
        if (!(Percentile > 0 && Percentile < 100)) throw new ArgumentOutOfRangeException(nameof(Percentile), Percentile, "the percentile must lie strictly between 0 and 100");
        ArgumentOutOfRangeException.ThrowIfNegative(ClosestPairs);
    }
}

/// <summary>
/// The memorisation check: every generated digit's nearest training image, in the classifier's feature space and in
/// pixel space, against the reference a real digit gives — the test set's own nearest-training distances. The
/// threshold τ is the <see cref="MemorisationConfig.Percentile"/>-th percentile (numpy's linear interpolation) of the
/// test images' distances; <c>memorised_fraction</c> = (1/M) Σ_j 1[d(G_j, train) &lt; τ]. For real test digits it is
/// the percentile itself (0.01 at the default): a generator at that value is no closer to its training set than new
/// real digits are; a copying one lies far above. (A fixed low quantile tests the close tail, where copies sit; a
/// comparison of medians would mix copying with a generator that merely prefers typical digits.) The nearest
/// neighbours are exact (every distance, float64, <see cref="PairwiseDistances"/>).
/// </summary>
public static class Memorisation
{
    /// <param name="generated">The generated set (features and pixels).</param>
    /// <param name="training">The training set the generator learned from.</param>
    /// <param name="heldOut">Real images the generator never saw (the test set); the same object as <paramref name="generated"/> when the generated set is the test set itself (one pass less).</param>
    /// <param name="heldOutDistance">The held-out images' nearest-training distances when already known (<see cref="MemorisationReference.HeldOutDistance"/> of these very sets): that pass is then not repeated.</param>
    public static MemorisationResult Compute(ImageFeatures generated, ImageFeatures training, ImageFeatures heldOut,
        MemorisationConfig? config = null, PairwiseDistances? distances = null, double[]? heldOutDistance = null)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(heldOut);
        config ??= new MemorisationConfig();
        config.Validate();
        distances ??= new PairwiseDistances();
        generated.Features.RequireSameWidth(training.Features);
        heldOut.Features.RequireSameWidth(training.Features);
        if (generated.Count < 1 || training.Count < 1 || heldOut.Count < 1) throw new ArgumentException("the generated, training and held-out sets each need at least one image");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        using Tensor train = tensor(training.Features.Data, [training.Count, training.Features.Cols], ScalarType.Float64);   // (N, D)
        var (featureNearest, featureDistance) = Nearest(distances, generated, train);
        if (heldOutDistance is not null && heldOutDistance.Length != heldOut.Count)
            throw new ArgumentException($"{heldOutDistance.Length} held-out distances for {heldOut.Count} held-out images", nameof(heldOutDistance));
        heldOutDistance ??= ReferenceEquals(heldOut, generated) ? featureDistance : Nearest(distances, heldOut, train).Distance;
        int[] pixelNearest;
        double[] pixelDistance;
        using (Tensor trainPixels = training.PixelRows())   // (N, 1024) uint8: converted a block at a time, exact
        using (Tensor genPixels = generated.PixelRows())
            (pixelNearest, pixelDistance) = distances.Nearest(genPixels, trainPixels);
        for (int i = 0; i < pixelDistance.Length; i++) pixelDistance[i] /= 255.0;   // pixel units → [0, 1] intensities

        double threshold = Quantile(heldOutDistance, config.Percentile / 100.0);
        double fraction = FractionBelow(featureDistance, threshold);
        var closest = Enumerable.Range(0, featureDistance.Length)
            .OrderBy(j => featureDistance[j]).ThenBy(j => j)
            .Take(config.ClosestPairs)
            .Select(j => new NearestPair(j, featureNearest[j], featureDistance[j]))
            .ToList();
        return new MemorisationResult(featureNearest, featureDistance, pixelNearest, pixelDistance, heldOutDistance,
            config.Percentile, threshold, fraction, closest, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The held-out images' nearest-training distances and τ (<see cref="MemorisationConfig.Percentile"/>), for scoring
    /// many generated sets against <paramref name="training"/> with <see cref="MemorisedFraction"/>.
    /// </summary>
    public static MemorisationReference Reference(FeatureMatrix training, FeatureMatrix heldOut, MemorisationConfig? config = null, PairwiseDistances? distances = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(heldOut);
        config ??= new MemorisationConfig();
        config.Validate();
        distances ??= new PairwiseDistances();
        heldOut.RequireSameWidth(training);
        if (training.Rows < 1 || heldOut.Rows < 1) throw new ArgumentException("the training and held-out sets each need at least one image");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using Tensor train = Rows(training);   // (N, D)
        double[] heldOutDistance = Nearest(distances, heldOut, train).Distance;
        return new MemorisationReference(training, heldOut, heldOutDistance, config.Percentile,
            Quantile(heldOutDistance, config.Percentile / 100.0), watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// <c>memorised_fraction</c> of <paramref name="generated"/> against a reference at hand: the share of its digits
    /// nearer to a training image (feature space) than τ; the same value <see cref="Compute"/> gives, without the
    /// pixel-space neighbours. When <paramref name="generated"/> is the held-out set itself, its distances are reused.
    /// </summary>
    public static double MemorisedFraction(MemorisationReference reference, FeatureMatrix generated, PairwiseDistances? distances = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(generated);
        if (ReferenceEquals(generated, reference.HeldOut)) return FractionBelow(reference.HeldOutDistance, reference.Threshold);
        generated.RequireSameWidth(reference.Training);
        if (generated.Rows < 1) throw new ArgumentException($"{generated.Name} has no images");
        using Tensor train = Rows(reference.Training);
        return FractionBelow(Nearest(distances ?? new PairwiseDistances(), generated, train).Distance, reference.Threshold);
    }

    /// <summary>The share of <paramref name="distances"/> strictly below <paramref name="threshold"/>.</summary>
    static double FractionBelow(double[] distances, double threshold) => (double)distances.Count(d => d < threshold) / distances.Length;

    static Tensor Rows(FeatureMatrix set) => tensor(set.Data, [set.Rows, set.Cols], ScalarType.Float64);

    static (int[] Index, double[] Distance) Nearest(PairwiseDistances distances, ImageFeatures set, Tensor train) => Nearest(distances, set.Features, train);

    static (int[] Index, double[] Distance) Nearest(PairwiseDistances distances, FeatureMatrix set, Tensor train)
    {
        using Tensor x = Rows(set);
        return distances.Nearest(x, train);
    }

    /// <summary>The <paramref name="q"/>-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics: numpy's default <c>np.quantile</c>.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "q must lie in [0, 1]");
        double[] sorted = [.. values];
        Array.Sort(sorted);
        double position = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(position);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        double t = position - lo, a = sorted[lo], b = sorted[hi];
        // numpy's _lerp: a + (b − a)·t, taken from the upper end when t ≥ 0.5 (monotone and exact at both ends).
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
    }
}
