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
}

/// <summary>
/// The FID table of parts 2 and 3: every row's images against the 60k training images, PreAct and Flatten features.
/// Validation = the 10k test images; Random = Gaussian noise with the training set's per-pixel mean and std, clipped
/// (part 1's definition); generator rows are passed in as (N, 1, 32, 32) tensors in [0, 1]. A row whose images (or the
/// training set) are too few for the 128-d features carries the warning that <c>ldm fid</c> gives for them.
/// </summary>
public static class GeneratorFid
{
    public static IReadOnlyList<GeneratorFidRow> Table(Classifier classifier, MnistData data,
        IReadOnlyList<(string Name, string Description, Tensor Images, double? BlogFid)> generated, long randomSeed = 0)
    {
        var pre = new FidCalculator(classifier, new FidConfig(FeatureKind.PreAct));
        var flat = new FidCalculator(classifier, new FidConfig(FeatureKind.Flatten));
        FeatureStatistics trainPre = pre.StatisticsOfIdx(data.Train.Images), trainFlat = flat.StatisticsOfIdx(data.Train.Images);
        string? trainWarning = trainPre.SampleSizeWarning("the training images");

        (double, double, List<string>) Fid(string name, Tensor images)
        {
            FeatureStatistics stats = pre.StatisticsOfInputs(images);
            var warnings = new[] { stats.SampleSizeWarning($"row {name}"), trainWarning }.OfType<string>().ToList();
            return (FrechetDistance.Compute(stats, trainPre), FrechetDistance.Compute(flat.StatisticsOfInputs(images), trainFlat), warnings);
        }

        var raw = new List<(string Name, string Description, double Pre, double Flat, double? Blog, List<string> Warnings)>();
        using (Tensor test = data.Test.ToInputs())
        {
            var (p, f, w) = Fid("Validation", test);
            raw.Add(("Validation", $"the {data.Test.Count} test images", p, f, BlogPart1.FidValidation, w));
        }
        using (Tensor noise = FidBaselines.RandomImages(data.Train.Images, data.Test.Count, randomSeed))
        {
            var (p, f, w) = Fid("Random", noise);
            raw.Add(("Random", $"{data.Test.Count} Gaussian noise images with the training set's per-pixel mean and std, clipped (seed {randomSeed})", p, f, BlogPart1.FidRandom, w));
        }
        foreach (var (name, description, images, blog) in generated)
        {
            var (p, f, w) = Fid(name, images);
            raw.Add((name, description, p, f, blog, w));
        }
        double validation = raw[0].Pre, random = raw[1].Pre;
        return raw.Select(r => new GeneratorFidRow(r.Name, r.Description, r.Pre, r.Flat, r.Pre / random, r.Pre / validation, r.Blog) { Warnings = r.Warnings }).ToList();
    }
}
