using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>
/// What the guidance sweep grades: a class-conditional model (one class per class of the data) and the VAE that decodes
/// it, the data's classifier and the data, N samples per class, the weights, the seed, the sampling template (sampler,
/// steps, guidance interval), and the unconditional model whose samples, grouped by the classifier's label, give the
/// per-class FID to beat.
/// </summary>
public sealed record GuidanceSweepInputs(UNet Model, DiffusionConfig Config, Vae Vae, string VaePath, Classifier Classifier, ImageDataset Data,
    int PerDigit, IReadOnlyList<double> Weights, long Seed, SamplingOptions Template)
{
    /// <summary>The unconditional model's file (absent: no reference), and whether the user named it (a default that does not fit the VAE is skipped with a note).</summary>
    public (string Path, bool Given)? Unconditional { get; init; }

    /// <summary>Sampling seeds K of every weight's row: sampled at seeds Seed … Seed + K − 1, each number the mean over them (<see cref="GuidanceRow.Mean(IReadOnlyList{GuidanceRow})"/>).</summary>
    public int Seeds { get; init; } = 1;
}

/// <summary>
/// The sweep's results: a row per weight, the balanced grid (up to 10 samples of each class, class-major) at
/// <see cref="GridGuidance"/>, the test images' own grades (the reference row), and the unconditional model's grades by
/// label with how it was sampled.
/// </summary>
public sealed record GuidanceSweepResult(IReadOnlyList<GuidanceRow> Rows, Tensor Grid, double GridGuidance, IReadOnlyList<DigitGrade> TestDigits,
    IReadOnlyList<DigitGrade>? Unconditional, string? UnconditionalName) : IDisposable
{
    public void Dispose() => Grid.Dispose();
}

/// <summary>
/// <c>ldm reproduce conditional</c>'s experiment: for each guidance weight w, N samples of every class, read by the
/// data's classifier (accuracy, confidence) and scored per class against the training images of that class (per-class FID).
/// </summary>
public static class GuidanceSweep
{
    public static GuidanceSweepResult Run(GuidanceSweepInputs inputs, IExperimentObserver? observer = null)
    {
        observer ??= SilentObserver.Instance;
        int classes = inputs.Data.Classes;
        if (inputs.Config.UNet.Classes != classes)
            throw new ArgumentException($"the guidance sweep needs a model conditional on the {classes} classes of {inputs.Data.Info.Describe()} (this one has {inputs.Config.UNet.Classes})");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs.PerDigit);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs.Seeds);
        if (inputs.Weights.Count == 0) throw new ArgumentException("the sweep needs at least one guidance weight");
        int n = inputs.PerDigit;
        ClassWords words = ClassWords.For(inputs.Data.Info);
        int[] labels = Enumerable.Range(0, classes).SelectMany(d => Enumerable.Repeat(d, n)).ToArray();
        SamplingOptions template = inputs.Template with { Labels = labels };
        string how = Describe(template, inputs.Config);
        observer.Result($"Per-class statistics of the training {words.Samples}…");
        var grading = new ConditionalGrading(inputs.Classifier, inputs.Data);
        var rows = new List<GuidanceRow>();
        Tensor? grid = null;
        try
        {
            foreach (double w in inputs.Weights)
            {
                var seeds = new List<GuidanceRow>();
                for (int k = 0; k < inputs.Seeds; k++)
                {
                    long seed = inputs.Seed + k;
                    string which = inputs.Seeds > 1 ? $", seed {seed}" : "";
                    var watch = System.Diagnostics.Stopwatch.StartNew();
                    using LatentSamples samples = observer.Step($"w = {w.ToString(CultureInfo.InvariantCulture)}: {labels.Length} {words.Samples}, {how}{which}", p =>
                        LatentDiffusionSampler.Generate(inputs.Model, inputs.Config, inputs.Vae, labels.Length, seed, template with { Guidance = w }, p));
                    double seconds = watch.Elapsed.TotalSeconds;
                    var grades = Enumerable.Range(0, classes).Select(d => grading.Grade(samples.Images.narrow(0, (long)d * n, n), d)).ToList();
                    seeds.Add(new GuidanceRow(w, grades, seconds));
                    if (k == 0 && (w == inputs.Config.DefaultGuidance || (grid is null && w == inputs.Weights[^1])))
                    {
                        grid?.Dispose();
                        grid = cat(Enumerable.Range(0, classes).Select(d => samples.Images.narrow(0, (long)d * n, Math.Min(n, 10))).ToArray(), 0);
                    }
                }
                GuidanceRow row = GuidanceRow.Mean(seeds);
                rows.Add(row);
                observer.Result(Summary(row, words));
            }
            IReadOnlyList<DigitGrade> testGrades = TestGrades(inputs.Data, grading);
            (IReadOnlyList<DigitGrade>? reference, string? referenceName) = UnconditionalReference(inputs, labels.Length, words, grading, observer);
            double gridW = inputs.Weights.Contains(inputs.Config.DefaultGuidance) ? inputs.Config.DefaultGuidance : inputs.Weights[^1];
            return new GuidanceSweepResult(rows, grid!, gridW, testGrades, reference, referenceName);
        }
        catch
        {
            grid?.Dispose();
            throw;
        }
    }

    /// <summary>The progress line of a finished weight: accuracy and per-class FID, with the range over the seeds when it averages several.</summary>
    static string Summary(GuidanceRow row, ClassWords words)
    {
        string seeds = row.Seeds > 1
            ? string.Create(CultureInfo.InvariantCulture, $" (mean of {row.Seeds} seeds: read as asked {100 * row.AccuracyRange.Min:F2}-{100 * row.AccuracyRange.Max:F2} %, FID {row.MeanFidRange.Min:F2}-{row.MeanFidRange.Max:F2})")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"w = {row.Guidance}: {100 * row.Accuracy:F2} % read as asked (worst {words.Singular} {100 * row.WorstAccuracy:F1} %), per-class FID mean {row.MeanFid:F2} (worst {row.WorstFid:F2}), {row.Seconds:F0} s{(row.Seeds > 1 ? " a seed" : "")}{seeds}");
    }

    /// <summary>e.g. "α-deblending 50 Euler steps, guidance at noise levels 0.1-0.5".</summary>
    public static string Describe(SamplingOptions template, DiffusionConfig config) =>
        template.Describe(config) + (template.GuidanceInterval is var (lo, hi)
            ? $", guidance at noise levels {lo.ToString(CultureInfo.InvariantCulture)}-{hi.ToString(CultureInfo.InvariantCulture)}" : "");

    /// <summary>The test images of each class graded as generated ones are: the row a perfect generator would reach.</summary>
    static IReadOnlyList<DigitGrade> TestGrades(ImageDataset data, ConditionalGrading grading)
    {
        using Tensor testInputs = data.Test.ToInputs();
        IReadOnlyList<int> testLabels = data.Test.Labels;
        return Enumerable.Range(0, data.Classes).Select(d =>
        {
            using Tensor index = tensor(Enumerable.Range(0, testLabels.Count).Where(i => testLabels[i] == d).Select(i => (long)i).ToArray());
            using Tensor images = testInputs.index_select(0, index);
            return grading.Grade(images, d);
        }).ToList();
    }

    static (IReadOnlyList<DigitGrade>?, string?) UnconditionalReference(GuidanceSweepInputs inputs, int count, ClassWords words, ConditionalGrading grading, IExperimentObserver observer)
    {
        if (inputs.Unconditional is not var (path, given) || !File.Exists(path))
        {
            observer.Note($"no unconditional model at {inputs.Unconditional?.Path}; the report has no unconditional reference");
            return (null, null);
        }
        (UNet plain, DiffusionConfig plainConfig) = ModelFile.LoadDiffusion(path);
        using (plain)
        {
            if (!given && !plainConfig.LatentShape.SequenceEqual(inputs.Vae.LatentShape))
            {
                // The shipped default works on the shipped latent VAE; with another VAE it is skipped, not an error.
                observer.Note($"{path} does not fit the VAE {inputs.VaePath}; the report has no unconditional reference");
                return (null, null);
            }
            if (plainConfig.UNet.Classes != 0) throw new ArgumentException($"the unconditional model {path} is class-conditional");
            ModelFile.RequireFits(plainConfig, path, inputs.Vae, inputs.VaePath);
            var plainOptions = new SamplingOptions();
            string name = $"{Path.GetFileName(path)} ({plainOptions.Describe(plainConfig)}), {count} {words.Samples} grouped by the classifier's label";
            using LatentSamples plainSamples = observer.Step($"unconditional reference: {count} {words.Samples}", p =>
                LatentDiffusionSampler.Generate(plain, plainConfig, inputs.Vae, count, inputs.Seed, plainOptions, p));
            IReadOnlyList<DigitGrade> reference = grading.GradeByLabel(plainSamples.Images);
            observer.Result(string.Create(CultureInfo.InvariantCulture, $"unconditional reference: per-class FID mean {reference.Average(g => g.Fid):F2} (worst {reference.Max(g => g.Fid):F2})"));
            return (reference, name);
        }
    }
}
