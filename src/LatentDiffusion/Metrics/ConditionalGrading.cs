using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// How well generated digits of one requested class come out: the share the classifier labels as that digit, its mean
/// probability for that digit, and the FID (preact) against the training images of that digit only.
/// </summary>
public sealed record DigitGrade(int Digit, int Count, int Correct, double MeanConfidence, double Fid)
{
    public double Accuracy => (double)Correct / Count;

    /// <summary>Precision and recall (k = 3), density and coverage (k = 5) against that digit's training images (preact features); null for a group too small for them.</summary>
    public ManifoldResult? Manifold { get; init; }

    /// <summary>The share of the digits nearer to a training image of their digit than 99% of that digit's test images are; null as <see cref="Manifold"/>.</summary>
    public double? MemorisedFraction { get; init; }

    /// <summary>
    /// One digit's grades at several sampling seeds: the counts summed, the confidence, FID and metrics beyond FID averaged
    /// over the seeds (the metrics only when every seed has them).
    /// </summary>
    public static DigitGrade Mean(IReadOnlyList<DigitGrade> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("no grades to average", nameof(seeds));
        if (seeds.Count == 1) return seeds[0];
        if (seeds.Any(g => g.Digit != seeds[0].Digit)) throw new ArgumentException("the grades to average are of different digits", nameof(seeds));
        return new DigitGrade(seeds[0].Digit, seeds.Sum(g => g.Count), seeds.Sum(g => g.Correct), seeds.Average(g => g.MeanConfidence), seeds.Average(g => g.Fid))
        {
            Manifold = SeedMeans.Manifold(seeds.Select(g => g.Manifold).ToList()),
            MemorisedFraction = SeedMeans.Mean(seeds.Select(g => g.MemorisedFraction)),
        };
    }
}

/// <summary>
/// One guidance weight's grades over the ten digits, and the wall time of generating them. A row of several sampling
/// seeds (<see cref="Mean(IReadOnlyList{GuidanceRow})"/>) keeps the rows of its seeds in <see cref="PerSeed"/>; each of
/// its numbers is then the mean over them of the number a single seed's row shows (the worst digit: the mean of each
/// seed's worst), and <see cref="Digits"/> holds each digit's grades averaged over the seeds.
/// </summary>
public sealed record GuidanceRow(double Guidance, IReadOnlyList<DigitGrade> Digits, double Seconds)
{
    /// <summary>The rows of the single seeds this row averages (seeds S, S + 1, …), or empty for a row of one seed.</summary>
    public IReadOnlyList<GuidanceRow> PerSeed { get; init; } = [];

    /// <summary>The number of sampling seeds the row's numbers average.</summary>
    public int Seeds => Math.Max(1, PerSeed.Count);

    /// <summary>The share of all samples labelled as requested.</summary>
    public double Accuracy => OverSeeds(r => r.Accuracy, () => (double)Digits.Sum(d => d.Correct) / Digits.Sum(d => d.Count));

    public double WorstAccuracy => OverSeeds(r => r.WorstAccuracy, () => Digits.Min(d => d.Accuracy));

    public double MeanFid => OverSeeds(r => r.MeanFid, () => Digits.Average(d => d.Fid));

    public double WorstFid => OverSeeds(r => r.WorstFid, () => Digits.Max(d => d.Fid));

    public double MeanConfidence => OverSeeds(r => r.MeanConfidence, () => Digits.Average(d => d.MeanConfidence));

    /// <summary>The lowest and highest accuracy over the seeds (the row's own for one seed).</summary>
    public (double Min, double Max) AccuracyRange => PerSeed.Count == 0 ? (Accuracy, Accuracy) : SeedMeans.Range(PerSeed.Select(r => r.Accuracy));

    /// <summary>The lowest and highest mean per-class FID over the seeds (the row's own for one seed).</summary>
    public (double Min, double Max) MeanFidRange => PerSeed.Count == 0 ? (MeanFid, MeanFid) : SeedMeans.Range(PerSeed.Select(r => r.MeanFid));

    /// <summary>The mean over digits of a metric beyond FID (null when a digit lacks it); over seeds, the mean of each seed's.</summary>
    public double? Mean(Func<DigitGrade, double?> metric) => PerSeed.Count > 0
        ? SeedMeans.Mean(PerSeed.Select(r => r.Mean(metric)))
        : Digits.All(d => metric(d) is not null) ? Digits.Average(d => metric(d)!.Value) : null;

    double OverSeeds(Func<GuidanceRow, double> number, Func<double> single) => PerSeed.Count > 0 ? PerSeed.Average(number) : single();

    /// <summary>The row of one weight sampled at several seeds: the seeds' rows kept, each digit's grades averaged (<see cref="DigitGrade.Mean"/>), the seconds a seed's mean. One row is returned as it is.</summary>
    public static GuidanceRow Mean(IReadOnlyList<GuidanceRow> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("no rows to average", nameof(seeds));
        if (seeds.Count == 1) return seeds[0];
        if (seeds.Any(r => r.Guidance != seeds[0].Guidance || !r.Digits.Select(d => d.Digit).SequenceEqual(seeds[0].Digits.Select(d => d.Digit))))
            throw new ArgumentException("the rows to average are of different weights or digits", nameof(seeds));
        var digits = seeds[0].Digits.Select((d, i) => DigitGrade.Mean(seeds.Select(r => r.Digits[i]).ToList())).ToList();
        return new GuidanceRow(seeds[0].Guidance, digits, seeds.Average(r => r.Seconds)) { PerSeed = seeds };
    }
}

/// <summary>
/// The dataset's classifier grading a class-conditional generator: per requested class, the classifier's accuracy
/// and confidence, and against that class's training images (~6,000 for MNIST's digits; preact features): the
/// per-class FID, precision, recall, density, coverage and the memorised fraction (the threshold from that class's test
/// images). One feature pass per class set serves them all; each class's training k-NN radii and memorisation reference
/// are computed at its first grade and kept.
/// </summary>
public sealed class ConditionalGrading
{
    readonly Classifier classifier;
    readonly FeaturePass pass;
    readonly ImageDataset data;
    readonly ClassWords words;
    readonly ImageFeatures[] perClass;
    readonly RealManifold?[] manifolds;
    readonly MemorisationReference?[] references;

    public ConditionalGrading(Classifier classifier, ImageDataset data)
    {
        this.classifier = classifier;
        this.data = data;
        words = ClassWords.For(data.Info);
        int classes = data.Classes;
        perClass = new ImageFeatures[classes];
        manifolds = new RealManifold?[classes];
        references = new MemorisationReference?[classes];
        pass = new FeaturePass(classifier, new FidConfig(FeatureKind.PreAct));
        using Tensor train = data.Train.ToInputs();                                  // (N, C, S, S)
        for (int c = 0; c < classes; c++)
        {
            using Tensor images = ClassImages(train, data.Train.Labels, c);
            perClass[c] = pass.OfInputs(images, $"the training images of {words.Describe(c)}");   // statistics: StatisticsOfInputs's bits
        }
    }

    /// <summary>The number of classes graded.</summary>
    public int Classes => perClass.Length;

    /// <summary>The neighbourhood sizes of precision/recall and density/coverage.</summary>
    public ManifoldConfig Manifold { get; init; } = new();

    /// <summary>The held-out percentile of the memorisation threshold.</summary>
    public MemorisationConfig Memorisation { get; init; } = new();

    /// <summary>Seconds spent on the metrics beyond FID so far (k-NN radii and distances; not the classifier passes).</summary>
    public double QualitySeconds { get; private set; }

    static Tensor ClassImages(Tensor inputs, IReadOnlyList<int> labels, int c)
    {
        using Tensor index = tensor(Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).Select(i => (long)i).ToArray());
        return inputs.index_select(0, index);
    }

    /// <summary>The FID of <paramref name="set"/> against class <paramref name="c"/>'s training images, and the metrics beyond FID when the sets are large enough.</summary>
    DigitGrade Score(DigitGrade grade, ImageFeatures set, int c)
    {
        ImageFeatures train = perClass[c];
        grade = grade with { Fid = FrechetDistance.Compute(set.Statistics, train.Statistics) };
        if (set.Count < Manifold.PrecisionRecallK + 1 || train.Count < Math.Max(Manifold.PrecisionRecallK, Manifold.DensityCoverageK) + 1)
            return grade;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        manifolds[c] ??= ManifoldMetrics.Real(train.Features, Manifold);
        ManifoldResult manifold = ManifoldMetrics.Compute(manifolds[c]!, set.Features);
        MemorisationReference? reference = Reference(c, train);
        double? memorised = reference is null ? null : Metrics.Memorisation.MemorisedFraction(reference, set.Features);
        QualitySeconds += watch.Elapsed.TotalSeconds;
        return grade with { Manifold = manifold, MemorisedFraction = memorised };
    }

    /// <summary>Class <paramref name="c"/>'s memorisation reference (its test images against its training images), made once; null when the test set holds fewer than 2 of the class.</summary>
    MemorisationReference? Reference(int c, ImageFeatures train)
    {
        if (references[c] is { } known) return known;
        IReadOnlyList<int> labels = data.Test.Labels;
        if (labels.Count(l => l == c) < 2) return null;
        using Tensor test = data.Test.ToInputs();
        using Tensor heldOut = ClassImages(test, labels, c);
        return references[c] = Metrics.Memorisation.Reference(train.Features, pass.OfInputs(heldOut, $"the test images of {words.Describe(c)}").Features, Memorisation);
    }

    /// <summary>The training images' statistics of one class.</summary>
    public FeatureStatistics ClassStatistics(int c) => perClass[c].Statistics;

    /// <summary>
    /// The reference for an unconditional generator at the same sample size: its <paramref name="images"/> grouped by
    /// the classifier's label, each group's FID against that class's training images (Correct = the group's size).
    /// </summary>
    public IReadOnlyList<DigitGrade> GradeByLabel(Tensor images)
    {
        using var eval = EvalMode.Of(classifier);
        long[] predicted;
        using (no_grad())
        using (var scope = NewDisposeScope())
            predicted = classifier.forward(images).argmax(1).data<long>().ToArray();
        var grades = new List<DigitGrade>();
        for (int c = 0; c < Classes; c++)
        {
            long[] rows = Enumerable.Range(0, predicted.Length).Where(i => predicted[i] == c).Select(i => (long)i).ToArray();
            if (rows.Length < 2) continue;
            using Tensor index = tensor(rows);
            using Tensor group = images.index_select(0, index);
            grades.Add(Score(new DigitGrade(c, rows.Length, rows.Length, 1, double.NaN), pass.OfInputs(group, $"the {words.Samples} read as {words.Describe(c)}"), c));
        }
        return grades;
    }

    /// <summary>Grades <paramref name="images"/> (N, C, S, S) in [0, 1], all generated as class <paramref name="c"/>.</summary>
    public DigitGrade Grade(Tensor images, int c, int batchSize = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(c, Classes);
        using var eval = EvalMode.Of(classifier);
        using var noGrad = no_grad();
        long n = images.shape[0];
        int correct = 0;
        double confidence = 0;
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            Tensor probabilities = nn.functional.softmax(classifier.forward(images.narrow(0, start, Math.Min(batchSize, n - start))), 1);
            correct += (int)probabilities.argmax(1).eq(c).sum().item<long>();
            confidence += probabilities.select(1, c).to_type(ScalarType.Float64).sum().item<double>();
        }
        return Score(new DigitGrade(c, (int)n, correct, confidence / n, double.NaN), pass.OfInputs(images, $"the {words.Samples} generated as {words.Describe(c)}"), c);
    }
}
