using System.Diagnostics;
using LatentDiffusion.Models;

namespace LatentDiffusion.Metrics;

/// <summary>Everything <see cref="SampleQuality"/> measures of a generated set against a reference set.</summary>
/// <param name="Fid">MNIST-FID, the same value <see cref="FidCalculator"/> gives for the two sources.</param>
/// <param name="Manifold">Precision and recall (k = 3), density and coverage (k = 5).</param>
/// <param name="Memorisation">Nearest training images and the memorised fraction.</param>
/// <param name="Generated">The generated set's features and pixels (for figures).</param>
/// <param name="Reference">The reference (training) set's.</param>
/// <param name="HeldOutName">The held-out set the memorisation threshold comes from.</param>
/// <param name="Seconds">Wall time, the classifier already loaded: feature passes and every metric.</param>
public sealed record SampleQualityResult(FidResult Fid, ManifoldResult Manifold, MemorisationResult Memorisation,
    ImageFeatures Generated, ImageFeatures Reference, string HeldOutName, double Seconds);

/// <summary>
/// FID, precision, recall, density, coverage and memorisation of a generated image set (A) against the reference (B,
/// the training set), from one pass of each set through the classifier. The held-out set (the test set) gives the
/// memorisation threshold; when it is A itself (the Validation row: test against training) its features are reused.
/// </summary>
public sealed class SampleQuality(Classifier classifier, FidConfig? config = null, string? classifierSha256 = null)
{
    readonly FeaturePass pass = new(classifier, config, classifierSha256);
    readonly FidCalculator fid = new(classifier, config, classifierSha256);

    public ManifoldConfig Manifold { get; init; } = new();
    public MemorisationConfig Memorisation { get; init; } = new();
    public PairwiseDistances Distances { get; init; } = new();

    /// <summary>All metrics of <paramref name="generated"/> against <paramref name="reference"/>, with <paramref name="heldOut"/>'s distances as the memorisation reference.</summary>
    public SampleQualityResult Compute(FidSource generated, FidSource reference, FidSource heldOut)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(heldOut);
        var watch = Stopwatch.StartNew();
        ImageFeatures a = pass.Run(generated);
        ImageFeatures b = pass.Run(reference);
        ImageFeatures test = SamePath(heldOut.Path, generated.Path) ? a : pass.Run(heldOut);
        return Compute(a, b, test, watch);
    }

    /// <summary>All metrics of feature sets already at hand (<see cref="FeaturePass"/>).</summary>
    public SampleQualityResult Compute(ImageFeatures generated, ImageFeatures reference, ImageFeatures heldOut) =>
        Compute(generated, reference, heldOut, Stopwatch.StartNew());

    SampleQualityResult Compute(ImageFeatures a, ImageFeatures b, ImageFeatures test, Stopwatch watch)
    {
        RequireNeighbours(a, Manifold.PrecisionRecallK, "recall");
        RequireNeighbours(b, Math.Max(Manifold.PrecisionRecallK, Manifold.DensityCoverageK), "precision, density and coverage");
        FidResult fidResult = fid.Compute(a.Statistics, b.Statistics) with { CountA = a.Count, CountB = b.Count };
        ManifoldResult manifold = ManifoldMetrics.Compute(b.Features, a.Features, Manifold, Distances);
        MemorisationResult memorisation = Metrics.Memorisation.Compute(a, b, test, Memorisation, Distances);
        return new SampleQualityResult(fidResult, manifold, memorisation, a, b, test.Name, watch.Elapsed.TotalSeconds);
    }

    /// <summary>A side with fewer than k + 1 images has no k-NN radii: a <see cref="IO.DataFormatException"/> naming it and k.</summary>
    static void RequireNeighbours(ImageFeatures set, int k, string metrics)
    {
        if (set.Count < k + 1)
            throw new IO.DataFormatException(set.Name, $"{set.Count} images: {metrics} with k = {k} need at least k + 1 = {k + 1}");
    }

    static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}
