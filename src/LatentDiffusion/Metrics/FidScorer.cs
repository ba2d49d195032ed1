using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// MNIST-FID of image sets against one data set's training images, with both feature definitions (part 1's PreAct and
/// part 3's Flatten): the calculators, the training images' statistics and the Validation row (the test images) are
/// computed once, however many tables (the series table, the sampler table) a run scores with it.
/// </summary>
public sealed class FidScorer(Classifier classifier, MnistData data)
{
    readonly FeaturePass pre = new(classifier, new FidConfig(FeatureKind.PreAct));
    readonly FidCalculator flat = new(classifier, new FidConfig(FeatureKind.Flatten));
    ImageFeatures? trainPre;
    RealManifold? trainManifold;
    FeatureStatistics? trainFlat;
    FidScore? validation;

    public MnistData Data { get; } = data;

    /// <summary>(preact, flatten) FID of (N, 1, 32, 32) images in [0, 1] against the training images, and the sample-size warnings of the row named <paramref name="name"/>.</summary>
    public FidScore Score(Tensor images, string name) => Score(images, name, manifold: false);

    /// <summary>
    /// <see cref="Score(Tensor, string)"/>, and with <paramref name="manifold"/> also precision, recall, density and
    /// coverage (preact features) against the training images, from the same features. The training set's k-NN radii
    /// are computed at the first such call and kept. A row with fewer images than the metrics' k + 1 gets none, and a
    /// warning.
    /// </summary>
    public FidScore Score(Tensor images, string name, bool manifold)
    {
        trainPre ??= pre.OfIdx(Data.Train.Images);
        trainFlat ??= flat.StatisticsOfIdx(Data.Train.Images);
        ImageFeatures row = pre.OfInputs(images, $"row {name}");
        FeatureStatistics stats = row.Statistics;
        var warnings = new[] { stats.SampleSizeWarning($"row {name}"), trainPre.Statistics.SampleSizeWarning("the training images") }.OfType<string>().ToList();
        ManifoldResult? manifoldResult = null;
        if (manifold)
        {
            var config = new ManifoldConfig();
            int needed = Math.Max(config.PrecisionRecallK, config.DensityCoverageK) + 1;
            if (row.Count < config.PrecisionRecallK + 1 || trainPre.Count < needed)
                warnings.Add($"row {name}: {row.Count} digits against {trainPre.Count} training images are too few for precision, recall, density and coverage " +
                             $"(k + 1 = {config.PrecisionRecallK + 1} and {needed} needed)");
            else
            {
                trainManifold ??= ManifoldMetrics.Real(trainPre.Features, config);
                manifoldResult = ManifoldMetrics.Compute(trainManifold, row.Features);
            }
        }
        return new FidScore(FrechetDistance.Compute(stats, trainPre.Statistics), FrechetDistance.Compute(flat.StatisticsOfInputs(images), trainFlat), warnings)
        {
            Manifold = manifoldResult,
        };
    }

    /// <summary>(preact, flatten) FID of (N, 1, 32, 32) images in [0, 1] against the training images.</summary>
    public (double Preact, double Flatten) Fid(Tensor images)
    {
        FidScore s = Score(images, "images");
        return (s.Preact, s.Flatten);
    }

    /// <summary>The test images' score (the tables' Validation row), computed once.</summary>
    public FidScore ValidationScore
    {
        get
        {
            if (validation is { } v) return v;
            using Tensor test = Data.Test.ToInputs();
            validation = Score(test, "Validation");
            return validation;
        }
    }

    /// <summary>The test set's preact FID against the training set (the Validation row).</summary>
    public double Validation => ValidationScore.Preact;
}

/// <summary>One image set's FID with both feature definitions, and caveats on it (too few images).</summary>
public sealed record FidScore(double Preact, double Flatten, IReadOnlyList<string> Warnings)
{
    /// <summary>Precision, recall, density and coverage against the training images, when asked for.</summary>
    public ManifoldResult? Manifold { get; init; }
}
