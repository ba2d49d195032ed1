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
}

/// <summary>
/// The FID table of parts 2 and 3: every row's images against the 60k training images, PreAct and Flatten features.
/// Validation = the 10k test images; Random = Gaussian noise with the training set's per-pixel mean and std, clipped
/// (part 1's definition); generator rows are passed in as (N, 1, 32, 32) tensors in [0, 1].
/// </summary>
public static class GeneratorFid
{
    public static IReadOnlyList<GeneratorFidRow> Table(Classifier classifier, MnistData data,
        IReadOnlyList<(string Name, string Description, Tensor Images, double? BlogFid)> generated, long randomSeed = 0)
    {
        var pre = new FidCalculator(classifier, new FidConfig(FeatureKind.PreAct));
        var flat = new FidCalculator(classifier, new FidConfig(FeatureKind.Flatten));
        FeatureStatistics trainPre = pre.StatisticsOfIdx(data.Train.Images), trainFlat = flat.StatisticsOfIdx(data.Train.Images);

        (double, double) Fid(Tensor images) =>
            (FrechetDistance.Compute(pre.StatisticsOfInputs(images), trainPre), FrechetDistance.Compute(flat.StatisticsOfInputs(images), trainFlat));

        var raw = new List<(string Name, string Description, double Pre, double Flat, double? Blog)>();
        using (Tensor test = data.Test.ToInputs())
        {
            var (p, f) = Fid(test);
            raw.Add(("Validation", $"the {data.Test.Count} test images", p, f, BlogPart1.FidValidation));
        }
        using (Tensor noise = FidBaselines.RandomImages(data.Train.Images, data.Test.Count, randomSeed))
        {
            var (p, f) = Fid(noise);
            raw.Add(("Random", $"{data.Test.Count} Gaussian noise images with the training set's per-pixel mean and std, clipped (seed {randomSeed})", p, f, BlogPart1.FidRandom));
        }
        foreach (var (name, description, images, blog) in generated)
        {
            var (p, f) = Fid(images);
            raw.Add((name, description, p, f, blog));
        }
        double validation = raw[0].Pre, random = raw[1].Pre;
        return raw.Select(r => new GeneratorFidRow(r.Name, r.Description, r.Pre, r.Flat, r.Pre / random, r.Pre / validation, r.Blog)).ToList();
    }
}
