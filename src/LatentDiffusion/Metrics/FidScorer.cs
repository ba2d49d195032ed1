using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// MNIST-FID of image sets against one data set's training images, with both feature definitions (part 1's PreAct and
/// part 3's Flatten): the calculators, the training images' statistics and the Validation row (the test images) are
/// computed once, however many tables (the series table, the sampler table) a run scores with it. Asked for, it adds
/// the metrics beyond FID from the same preact features: precision, recall, density, coverage and the memorised
/// fraction; the training set's k-NN radii and the test set's nearest-training distances (the memorisation
/// threshold) are computed at the first such row and kept for the rest.
/// </summary>
public sealed class FidScorer
{
    readonly FeaturePass pre;
    readonly FidCalculator flat;
    readonly Func<ImageFeatures> trainFeatures;
    readonly Func<FeatureStatistics> trainFlatStatistics;
    readonly Func<Tensor> testInputs;
    ImageFeatures? trainPre;
    ImageFeatures? testPre;
    RealManifold? trainManifold;
    MemorisationReference? memorisation;
    FeatureStatistics? trainFlat;
    FidScore? validation;
    FidScore? validationQuality;

    /// <summary>Scores against MNIST-layout data: part 1's IDX path (the series' tables).</summary>
    public FidScorer(Classifier classifier, MnistData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        pre = new FeaturePass(classifier, new FidConfig(FeatureKind.PreAct));
        flat = new FidCalculator(classifier, new FidConfig(FeatureKind.Flatten));
        Data = data;
        trainFeatures = () => pre.OfIdx(data.Train.Images);
        trainFlatStatistics = () => flat.StatisticsOfIdx(data.Train.Images);
        testInputs = data.Test.ToInputs;
    }

    /// <summary>Scores against any dataset's splits held as bytes at the classifier's (C, S, S) (<see cref="ImageDataset"/>).</summary>
    public FidScorer(Classifier classifier, LabelledImages train, LabelledImages test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        pre = new FeaturePass(classifier, new FidConfig(FeatureKind.PreAct));
        flat = new FidCalculator(classifier, new FidConfig(FeatureKind.Flatten));
        trainFeatures = () => pre.OfImages(train, "the training images");
        trainFlatStatistics = () => flat.StatisticsOfImages(train);
        testInputs = test.ToInputs;
    }

    /// <summary>The MNIST-layout data scored against (null for a scorer over <see cref="LabelledImages"/>).</summary>
    public MnistData? Data { get; }

    /// <summary>The neighbourhood sizes of precision/recall and density/coverage.</summary>
    public ManifoldConfig Manifold { get; init; } = new();

    /// <summary>The held-out percentile of the memorisation threshold.</summary>
    public MemorisationConfig Memorisation { get; init; } = new();

    /// <summary>Seconds spent on the metrics beyond FID so far (k-NN radii, distances; not the classifier passes FID needs anyway).</summary>
    public double QualitySeconds { get; private set; }

    /// <summary>The part of <see cref="QualitySeconds"/> spent once per scorer: the training set's k-NN radii and the test set's nearest-training distances.</summary>
    public double QualitySetupSeconds { get; private set; }

    /// <summary>The memorisation threshold τ once a row has asked for the metrics beyond FID (null before).</summary>
    public double? MemorisationThreshold => memorisation?.Threshold;

    /// <summary>(preact, flatten) FID of (N, C, S, S) images in [0, 1] against the training images, and the sample-size warnings of the row named <paramref name="name"/>.</summary>
    public FidScore Score(Tensor images, string name) => Score(images, name, quality: false);

    /// <summary>
    /// <see cref="Score(Tensor, string)"/>, and with <paramref name="quality"/> also precision, recall, density,
    /// coverage and the memorised fraction (preact features) against the training images, from the same features. A
    /// row with fewer images than the metrics' k + 1 gets none of them, and a warning.
    /// </summary>
    public FidScore Score(Tensor images, string name, bool quality)
    {
        FidScore score = Fid(images, name, out ImageFeatures row);
        return quality ? WithQuality(score, row, name) : score;
    }

    FidScore Fid(Tensor images, string name, out ImageFeatures row)
    {
        trainPre ??= trainFeatures();
        trainFlat ??= trainFlatStatistics();
        row = pre.OfInputs(images, $"row {name}");
        FeatureStatistics stats = row.Statistics;
        var warnings = new[] { stats.SampleSizeWarning($"row {name}"), trainPre.Statistics.SampleSizeWarning("the training images") }.OfType<string>().ToList();
        return new FidScore(FrechetDistance.Compute(stats, trainPre.Statistics), FrechetDistance.Compute(flat.StatisticsOfInputs(images), trainFlat), warnings);
    }

    /// <summary><paramref name="score"/> with the metrics beyond FID of <paramref name="row"/>'s features.</summary>
    FidScore WithQuality(FidScore score, ImageFeatures row, string name)
    {
        ImageFeatures train = trainPre!;
        int needed = Math.Max(Manifold.PrecisionRecallK, Manifold.DensityCoverageK) + 1;
        if (row.Count < Manifold.PrecisionRecallK + 1 || train.Count < needed)
            return score with
            {
                Warnings = [.. score.Warnings, $"row {name}: {row.Count} digits against {train.Count} training images are too few for precision, recall, density and coverage " +
                                               $"(k + 1 = {Manifold.PrecisionRecallK + 1} and {needed} needed)"],
            };
        if (trainManifold is null || memorisation is null)
        {
            ImageFeatures test = TestFeatures;
            var setup = System.Diagnostics.Stopwatch.StartNew();
            trainManifold ??= ManifoldMetrics.Real(train.Features, Manifold);
            memorisation ??= Metrics.Memorisation.Reference(train.Features, test.Features, Memorisation);
            QualitySetupSeconds += setup.Elapsed.TotalSeconds;
            QualitySeconds += setup.Elapsed.TotalSeconds;
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ManifoldResult manifold = ManifoldMetrics.Compute(trainManifold, row.Features);
        double memorised = Metrics.Memorisation.MemorisedFraction(memorisation, row.Features);
        QualitySeconds += watch.Elapsed.TotalSeconds;
        return score with { Manifold = manifold, MemorisedFraction = memorised };
    }

    /// <summary>
    /// The full memorisation check of <paramref name="images"/> (N, C, S, S) in [0, 1] against the training images,
    /// with the test images as the held-out reference: for the closest-pairs figure of a report. Exact, float64, in
    /// blocks (<see cref="PairwiseDistances"/>); the pixel-space pass needs gray 32x32 images.
    /// </summary>
    public ClosestPairs Closest(Tensor images, string name)
    {
        trainPre ??= trainFeatures();
        ImageFeatures row = pre.OfInputs(images, $"row {name}");
        // The test set's nearest-training distances (τ's reference), when the quality metrics already computed them.
        return new ClosestPairs(name, Metrics.Memorisation.Compute(row, trainPre, TestFeatures, Memorisation, heldOutDistance: memorisation?.HeldOutDistance), row, trainPre);
    }

    /// <summary>(preact, flatten) FID of (N, C, S, S) images in [0, 1] against the training images.</summary>
    public (double Preact, double Flatten) Fid(Tensor images)
    {
        FidScore s = Score(images, "images");
        return (s.Preact, s.Flatten);
    }

    /// <summary>The test images' score (the tables' Validation row), computed once; its features are kept as the memorisation's held-out set.</summary>
    public FidScore ValidationScore
    {
        get
        {
            if (validation is { } v) return v;
            using Tensor test = testInputs();
            validation = Fid(test, "Validation", out ImageFeatures features);
            testPre = features;
            return validation;
        }
    }

    /// <summary><see cref="ValidationScore"/> with the metrics beyond FID: the reference row (real digits against real digits; the memorised fraction is the percentile itself).</summary>
    public FidScore ValidationQuality => validationQuality ??= WithQuality(ValidationScore, TestFeatures, "Validation");

    ImageFeatures TestFeatures
    {
        get
        {
            _ = ValidationScore;
            return testPre!;
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

    /// <summary>The share of the row's digits nearer to a training image than τ (<see cref="Metrics.Memorisation"/>), when asked for.</summary>
    public double? MemorisedFraction { get; init; }
}
