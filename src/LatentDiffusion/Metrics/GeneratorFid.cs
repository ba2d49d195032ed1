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

    /// <summary>
    /// The rows of the single sampling seeds this row averages (seeds S, S + 1, …), or empty for a row of one seed. When
    /// set, every number of this row (FIDs, ratios, metrics beyond FID) is the mean over them.
    /// </summary>
    public IReadOnlyList<GeneratorFidRow> PerSeed { get; init; } = [];

    /// <summary>The number of sampling seeds the row's numbers average.</summary>
    public int Seeds => Math.Max(1, PerSeed.Count);

    /// <summary>The lowest and highest preact FID over the seeds (the row's own value for one seed).</summary>
    public (double Min, double Max) FidPreactRange => PerSeed.Count == 0 ? (FidPreact, FidPreact) : SeedMeans.Range(PerSeed.Select(r => r.FidPreact));
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
        IReadOnlyList<(string Name, string Description, Tensor Images, double? BlogFid)> generated, long randomSeed = 0, FidScorer? scorer = null) =>
        TableOverSeeds(classifier, data, generated.Select(g => (g.Name, g.Description, (IReadOnlyList<Tensor>)[g.Images], g.BlogFid)).ToList(), randomSeed, scorer);

    /// <summary>
    /// The table with generated rows sampled at several seeds: a row given the images of K seeds (S, S + 1, …) is the
    /// mean of its K single-seed rows (<see cref="Mean"/>), each kept in <see cref="GeneratorFidRow.PerSeed"/>; a row of
    /// one tensor is a row of one seed. Validation and Random are one set each.
    /// </summary>
    public static IReadOnlyList<GeneratorFidRow> TableOverSeeds(Classifier classifier, MnistData data,
        IReadOnlyList<(string Name, string Description, IReadOnlyList<Tensor> Seeds, double? BlogFid)> generated, long randomSeed = 0, FidScorer? scorer = null)
    {
        scorer ??= new FidScorer(classifier, data);
        if (!ReferenceEquals(scorer.Data, data)) throw new ArgumentException("the scorer scores against another data set", nameof(scorer));
        if (generated.Any(g => g.Seeds.Count == 0)) throw new ArgumentException("a generated row without images", nameof(generated));
        var raw = new List<(string Name, string Description, IReadOnlyList<FidScore> Scores, double? Blog)>
        {
            ("Validation", $"the {data.Test.Count} test images", [scorer.ValidationQuality], BlogPart1.FidValidation),
        };
        using (Tensor noise = FidBaselines.RandomImages(data.Train.Images, data.Test.Count, randomSeed))
            raw.Add(("Random", $"{data.Test.Count} Gaussian noise images with the training set's per-pixel mean and std, clipped (seed {randomSeed})", [scorer.Score(noise, "Random", quality: true)], BlogPart1.FidRandom));
        foreach (var (name, description, seeds, blog) in generated)
            raw.Add((name, description, seeds.Select(images => scorer.Score(images, name, quality: true)).ToList(), blog));
        double validation = raw[0].Scores[0].Preact, random = raw[1].Scores[0].Preact;
        GeneratorFidRow Row(string name, string description, FidScore score, double? blog) =>
            new(name, description, score.Preact, score.Flatten, score.Preact / random, score.Preact / validation, blog)
                { Warnings = score.Warnings, Manifold = score.Manifold, MemorisedFraction = score.MemorisedFraction };
        return raw.Select(r => Mean(r.Scores.Select(score => Row(r.Name, r.Description, score, r.Blog)).ToList())).ToList();
    }

    /// <summary>
    /// The row of several sampling seeds of the same generator: every number the mean over <paramref name="seeds"/>, which
    /// it keeps in <see cref="GeneratorFidRow.PerSeed"/> for the spread; the warnings of all. The metrics beyond FID are
    /// averaged only when every seed has them. One row is returned as it is.
    /// </summary>
    public static GeneratorFidRow Mean(IReadOnlyList<GeneratorFidRow> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("no rows to average", nameof(seeds));
        if (seeds.Count == 1) return seeds[0];
        GeneratorFidRow first = seeds[0];
        if (seeds.Any(r => r.Name != first.Name)) throw new ArgumentException("the rows to average are of different generators", nameof(seeds));
        return first with
        {
            FidPreact = seeds.Average(r => r.FidPreact), FidFlatten = seeds.Average(r => r.FidFlatten),
            RatioToRandom = seeds.Average(r => r.RatioToRandom), RatioToValidation = seeds.Average(r => r.RatioToValidation),
            Warnings = seeds.SelectMany(r => r.Warnings).Distinct().ToList(),
            Manifold = SeedMeans.Manifold(seeds.Select(r => r.Manifold).ToList()),
            MemorisedFraction = SeedMeans.Mean(seeds.Select(r => r.MemorisedFraction)),
            PerSeed = seeds,
        };
    }
}
