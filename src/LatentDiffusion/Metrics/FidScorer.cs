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
    readonly FidCalculator pre = new(classifier, new FidConfig(FeatureKind.PreAct));
    readonly FidCalculator flat = new(classifier, new FidConfig(FeatureKind.Flatten));
    FeatureStatistics? trainPre, trainFlat;
    FidScore? validation;

    public MnistData Data { get; } = data;

    /// <summary>(preact, flatten) FID of (N, 1, 32, 32) images in [0, 1] against the training images, and the sample-size warnings of the row named <paramref name="name"/>.</summary>
    public FidScore Score(Tensor images, string name)
    {
        trainPre ??= pre.StatisticsOfIdx(Data.Train.Images);
        trainFlat ??= flat.StatisticsOfIdx(Data.Train.Images);
        FeatureStatistics stats = pre.StatisticsOfInputs(images);
        var warnings = new[] { stats.SampleSizeWarning($"row {name}"), trainPre.SampleSizeWarning("the training images") }.OfType<string>().ToList();
        return new FidScore(FrechetDistance.Compute(stats, trainPre), FrechetDistance.Compute(flat.StatisticsOfInputs(images), trainFlat), warnings);
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
public sealed record FidScore(double Preact, double Flatten, IReadOnlyList<string> Warnings);
