using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// One row of a generator FID table: a set of images against the training set, with both feature definitions, and its
/// ratios to the table's Random and Validation rows (FID values scale with the classifier's weights; ratios compare
/// across weights). <paramref name="BlogFid"/> is the posts' value for the row, if any.
/// </summary>
public sealed record GeneratorFidRow(string Name, string Description, double FidPreact, double FidFlatten,
    double RatioToRandom, double RatioToValidation, double? BlogFid)
{
    /// <summary>The posts' ratio of this row to their Random row (48.43).</summary>
    public double? BlogRatioToRandom => BlogFid / BlogPart1.FidRandom;

    /// <summary>The posts' ratio of this row to their Validation row (0.30).</summary>
    public double? BlogRatioToValidation => BlogFid / BlogPart1.FidValidation;

    /// <summary>Caveats on the row's value: too few images on either side (<see cref="FeatureStatistics.SampleSizeWarning"/>).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Precision and recall (k = 3), density and coverage (k = 5) against the training images (preact features); null for a row too small for them.</summary>
    public ManifoldResult? Manifold { get; init; }

    /// <summary>The share of the row's images nearer to a training image than the test images' 1st percentile (<see cref="Memorisation"/>); null as <see cref="Manifold"/>.</summary>
    public double? MemorisedFraction { get; init; }
}

/// <summary>
/// The FID table of parts 2 and 3: every row's images against the 60k training images, PreAct and Flatten features.
/// Validation = the 10k test images; Random = Gaussian noise with the training set's per-pixel mean and std, clipped
/// (part 1's definition); generator rows are passed in as (N, 1, 32, 32) tensors in [0, 1]. A row whose images (or the
/// training set) are too few for the 128-d features carries the warning that <c>ldm fid</c> gives for them. Every row
/// also gets precision, recall, density, coverage and the memorised fraction from the same preact features (the
/// training set's k-NN radii and the memorisation threshold computed once, in the scorer); Validation is their
/// reference row.
/// </summary>
public static class GeneratorFid
{
    /// <param name="scorer">Scores against <paramref name="data"/>'s training images; pass the one a run shares with its other tables (statistics and Validation computed once). Default: a new one.</param>
    public static IReadOnlyList<GeneratorFidRow> Table(Classifier classifier, MnistData data,
        IReadOnlyList<(string Name, string Description, Tensor Images, double? BlogFid)> generated, long randomSeed = 0, FidScorer? scorer = null)
    {
        scorer ??= new FidScorer(classifier, data);
        if (!ReferenceEquals(scorer.Data, data)) throw new ArgumentException("the scorer scores against another data set", nameof(scorer));
        var raw = new List<(string Name, string Description, FidScore Score, double? Blog)>
        {
            ("Validation", $"the {data.Test.Count} test images", scorer.ValidationQuality, BlogPart1.FidValidation),
        };
        using (Tensor noise = FidBaselines.RandomImages(data.Train.Images, data.Test.Count, randomSeed))
            raw.Add(("Random", $"{data.Test.Count} Gaussian noise images with the training set's per-pixel mean and std, clipped (seed {randomSeed})", scorer.Score(noise, "Random", quality: true), BlogPart1.FidRandom));
        foreach (var (name, description, images, blog) in generated)
            raw.Add((name, description, scorer.Score(images, name, quality: true), blog));
        double validation = raw[0].Score.Preact, random = raw[1].Score.Preact;
        return raw.Select(r => new GeneratorFidRow(r.Name, r.Description, r.Score.Preact, r.Score.Flatten, r.Score.Preact / random, r.Score.Preact / validation, r.Blog)
            { Warnings = r.Score.Warnings, Manifold = r.Score.Manifold, MemorisedFraction = r.Score.MemorisedFraction }).ToList();
    }
}
