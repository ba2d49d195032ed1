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
}

/// <summary>One guidance weight's grades over the ten digits, and the wall time of generating them.</summary>
public sealed record GuidanceRow(double Guidance, IReadOnlyList<DigitGrade> Digits, double Seconds)
{
    /// <summary>The share of all samples labelled as requested.</summary>
    public double Accuracy => (double)Digits.Sum(d => d.Correct) / Digits.Sum(d => d.Count);

    public double WorstAccuracy => Digits.Min(d => d.Accuracy);

    public double MeanFid => Digits.Average(d => d.Fid);

    public double WorstFid => Digits.Max(d => d.Fid);

    public double MeanConfidence => Digits.Average(d => d.MeanConfidence);
}

/// <summary>
/// Part 1's classifier grading a class-conditional generator: per requested digit, the classifier's accuracy
/// and confidence, and a per-class FID against that digit's ~6,000 training images (preact features).
/// </summary>
public sealed class ConditionalGrading
{
    readonly Classifier classifier;
    readonly FidCalculator fid;
    readonly FeatureStatistics[] perClass = new FeatureStatistics[10];

    public ConditionalGrading(Classifier classifier, MnistData data)
    {
        this.classifier = classifier;
        fid = new FidCalculator(classifier, new FidConfig(FeatureKind.PreAct));
        using Tensor train = data.Train.ToInputs();                                  // (60000, 1, 32, 32)
        byte[] labels = data.Train.Labels.ToArray();
        for (int d = 0; d < 10; d++)
        {
            long[] rows = Enumerable.Range(0, labels.Length).Where(i => labels[i] == d).Select(i => (long)i).ToArray();
            using Tensor index = tensor(rows);
            using Tensor images = train.index_select(0, index);
            perClass[d] = fid.StatisticsOfInputs(images);
        }
    }

    /// <summary>The training images' statistics of one digit.</summary>
    public FeatureStatistics ClassStatistics(int digit) => perClass[digit];

    /// <summary>
    /// The reference for an unconditional generator at the same sample size: its <paramref name="images"/> grouped by
    /// the classifier's label, each group's FID against that digit's training images (Correct = the group's size).
    /// </summary>
    public IReadOnlyList<DigitGrade> GradeByLabel(Tensor images)
    {
        using var eval = EvalMode.Of(classifier);
        long[] predicted;
        using (no_grad())
        using (var scope = NewDisposeScope())
            predicted = classifier.forward(images).argmax(1).data<long>().ToArray();
        var grades = new List<DigitGrade>();
        for (int d = 0; d < 10; d++)
        {
            long[] rows = Enumerable.Range(0, predicted.Length).Where(i => predicted[i] == d).Select(i => (long)i).ToArray();
            if (rows.Length < 2) continue;
            using Tensor index = tensor(rows);
            using Tensor group = images.index_select(0, index);
            grades.Add(new DigitGrade(d, rows.Length, rows.Length, 1, FrechetDistance.Compute(fid.StatisticsOfInputs(group), perClass[d])));
        }
        return grades;
    }

    /// <summary>Grades <paramref name="images"/> (N, 1, 32, 32) in [0, 1], all generated as <paramref name="digit"/>.</summary>
    public DigitGrade Grade(Tensor images, int digit, int batchSize = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(digit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(digit, 9);
        using var eval = EvalMode.Of(classifier);
        using var noGrad = no_grad();
        long n = images.shape[0];
        int correct = 0;
        double confidence = 0;
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            Tensor probabilities = nn.functional.softmax(classifier.forward(images.narrow(0, start, Math.Min(batchSize, n - start))), 1);
            correct += (int)probabilities.argmax(1).eq(digit).sum().item<long>();
            confidence += probabilities.select(1, digit).to_type(ScalarType.Float64).sum().item<double>();
        }
        double distance = FrechetDistance.Compute(fid.StatisticsOfInputs(images), perClass[digit]);
        return new DigitGrade(digit, (int)n, correct, confidence / n, distance);
    }
}
