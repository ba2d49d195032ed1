using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>What the series' table scores for any dataset: its model set, the data, N samples, the seed and the guidance.</summary>
public sealed record DatasetReproductionInputs(ModelSet Models, ImageDataset Data, string ReportDirectory)
{
    /// <summary>Samples per generator row (balanced over the classes) and Random images.</summary>
    public int Count { get; init; } = 10_000;

    public long Seed { get; init; }

    /// <summary>The guided row's classifier-free guidance weight (null: the model's <see cref="DiffusionConfig.DefaultGuidance"/>) and noise interval (the shipped default).</summary>
    public double? Guidance { get; init; }

    public (double Low, double High)? GuidanceInterval { get; init; } = Recipes.GuidanceInterval;

    /// <summary>Samples of each class in the report's grid.</summary>
    public int GridPerClass { get; init; } = 10;
}

/// <summary>One row of the table: FID against the training images (preact features), its ratio to Validation, and the metrics beyond FID.</summary>
public sealed record DatasetRow(string Name, string Description, double Fid, double RatioToValidation, ManifoldResult? Manifold, double? MemorisedFraction,
    IReadOnlyList<string> Warnings);

/// <summary>
/// Class c asked of the generator: the share of its samples the classifier reads as c, beside the share of c's real
/// test images the classifier reads as c (the goal: no more than 2 points below).
/// </summary>
public sealed record ClassReading(int Class, string Name, int Count, double Generated, double Real)
{
    public double Gap => Generated - Real;
}

/// <summary>The table, the per-class readings of the guided row, the classifier's test accuracy, sampling seconds, the guided row's weight and the report written.</summary>
public sealed record DatasetReproductionResult(DatasetInfo Data, IReadOnlyList<DatasetRow> Rows, IReadOnlyList<ClassReading> Classes,
    double ClassifierAccuracy, double SampleSeconds, string SamplerDescription, double Guidance)
{
    /// <summary>The files written (set once the report is).</summary>
    public Reports.DatasetReportFiles? Report { get; init; }
}

/// <summary>
/// The series' FID table for any dataset from its model set (<c>ldm reproduce fashion-mnist</c>, the last stage of
/// <c>ldm pipeline</c>): Validation (test vs training images), Random (part 1's pixel-statistics noise), the latent
/// VAE's reconstructions of the test set (the floor under the generator), and the class-conditional generator, N
/// samples balanced over the classes, without guidance (w = 1) and at the shipped guidance; each row with precision,
/// recall, density, coverage and the memorised fraction. The guided samples are read by the classifier class by class.
/// </summary>
public static class DatasetReproduction
{
    public static DatasetReproductionResult Run(DatasetReproductionInputs inputs, IExperimentObserver? observer = null)
    {
        observer ??= SilentObserver.Instance;
        ModelSet set = inputs.Models;
        ImageDataset data = inputs.Data;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs.Count);
        using Classifier classifier = ModelFile.LoadClassifier(set.ClassifierPath);
        if (DataMatch.ClassifierProblem(classifier.Config, ModelFile.ReadData(set.ClassifierPath), set.ClassifierPath, data.Info, sameData: true) is { } problem)
            throw new DataFormatException(set.ClassifierPath, problem);
        using Vae vae = ModelFile.LoadVae(set.VaePath);
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(set.GeneratorPath);
        using (unet)
        {
            ModelFile.RequireFits(config, set.GeneratorPath, vae, set.VaePath);
            int classes = data.Classes;
            if (config.UNet.Classes != classes)
                throw new DataFormatException(set.GeneratorPath, $"is {(config.UNet.Classes == 0 ? "unconditional" : $"conditional on {config.UNet.Classes} classes")}; {data.Info.Describe()} has {classes}");
            int perClass = Math.Max(1, inputs.Count / classes);
            int[] labels = Enumerable.Range(0, classes).SelectMany(c => Enumerable.Repeat(c, perClass)).ToArray();
            var plain = new SamplingOptions { Labels = labels, Guidance = 1 };
            double weight = inputs.Guidance ?? config.DefaultGuidance;
            var guided = plain with { Guidance = weight, GuidanceInterval = inputs.GuidanceInterval };
            string how = plain.Describe(config);

            var watch = System.Diagnostics.Stopwatch.StartNew();
            using LatentSamples unguided = observer.Step($"{labels.Length} samples, {how}, w = 1", p =>
                LatentDiffusionSampler.Generate(unet, config, vae, labels.Length, inputs.Seed, plain, p));
            double sampleSeconds = watch.Elapsed.TotalSeconds;
            string w = weight.ToString(CultureInfo.InvariantCulture);
            using LatentSamples withGuidance = observer.Step($"{labels.Length} samples, {how}, w = {w}", p =>
                LatentDiffusionSampler.Generate(unet, config, vae, labels.Length, inputs.Seed, guided, p));

            observer.Result("Scoring: FID, precision, recall, density, coverage, memorisation…");
            var scorer = new FidScorer(classifier, data.Train, data.Test);
            FidScore validation = scorer.ValidationQuality;
            var rows = new List<DatasetRow> { Row("Validation", $"the {data.Test.Count} test images", validation, validation.Preact) };
            using (Tensor noise = FidBaselines.RandomImages(data.Train, inputs.Count, inputs.Seed))
                rows.Add(Row("Random", $"{inputs.Count} Gaussian noise images with the training set's per-pixel mean and std, clipped", scorer.Score(noise, "Random", quality: true), validation.Preact));
            using (Tensor test = data.Test.ToInputs())
            using (Tensor reconstructions = Part2Sampling.VaeReconstructions(vae, test, inputs.Seed))
                rows.Add(Row("Latent VAE reconstructions", "the latent VAE's reconstructions of the test set: the floor under the generator", scorer.Score(reconstructions, "reconstructions", quality: true), validation.Preact));
            rows.Add(Row("Generator", $"{labels.Length} samples ({perClass} of each class), {how}, no guidance (w = 1)", scorer.Score(unguided.Images, "Generator", quality: true), validation.Preact));
            string interval = inputs.GuidanceInterval is var (lo, hi) ? $" on [{lo.ToString(CultureInfo.InvariantCulture)}, {hi.ToString(CultureInfo.InvariantCulture)}]" : "";
            rows.Add(Row("Generator, guided", $"the same labels and seed at guidance w = {w}{interval}", scorer.Score(withGuidance.Images, "Generator, guided", quality: true), validation.Preact));
            foreach (DatasetRow row in rows) observer.Result($"{row.Name}: FID {row.Fid:F3} ({row.RatioToValidation:F2}x Validation)");

            IReadOnlyList<ClassReading> readings = ReadClasses(classifier, data, withGuidance.Images, labels);
            double accuracy;
            using (Tensor test = data.Test.ToInputs())
                accuracy = (double)DigitReading.Read(classifier, test).Zip(data.Test.Labels).Count(p => p.First.Label == p.Second) / data.Test.Count;

            using Tensor grid = Grid(withGuidance.Images, classes, perClass, inputs.GridPerClass);
            using Tensor real = RealGrid(data.Test, classes, inputs.GridPerClass);
            var result = new DatasetReproductionResult(data.Info, rows, readings, accuracy, sampleSeconds, how, weight);
            return result with { Report = Reports.DatasetReportPage.Write(inputs, result, grid, real) };
        }
    }

    static DatasetRow Row(string name, string description, FidScore score, double validation) =>
        new(name, description, score.Preact, score.Preact / validation, score.Manifold, score.MemorisedFraction, score.Warnings);

    /// <summary>Per class: the share of the samples asked for it that the classifier reads as it, and the same share of its real test images.</summary>
    static IReadOnlyList<ClassReading> ReadClasses(Classifier classifier, ImageDataset data, Tensor images, int[] labels)
    {
        IReadOnlyList<DigitReading> generated = DigitReading.Read(classifier, images);
        IReadOnlyList<DigitReading> real;
        using (Tensor test = data.Test.ToInputs()) real = DigitReading.Read(classifier, test);
        var rows = new List<ClassReading>();
        for (int c = 0; c < data.Classes; c++)
        {
            int asked = labels.Count(l => l == c), readAsAsked = Enumerable.Range(0, labels.Length).Count(i => labels[i] == c && generated[i].Label == c);
            int realCount = data.Test.Labels.Count(l => l == c), realRead = Enumerable.Range(0, data.Test.Count).Count(i => data.Test.Labels[i] == c && real[i].Label == c);
            rows.Add(new ClassReading(c, data.Info.ClassNames[c], asked, (double)readAsAsked / asked, realCount == 0 ? double.NaN : (double)realRead / realCount));
        }
        return rows;
    }

    /// <summary>The first <paramref name="columns"/> samples of each class, one row per class: (classes·columns, C, S, S).</summary>
    static Tensor Grid(Tensor images, int classes, int perClass, int columns)
    {
        int k = Math.Min(columns, perClass);
        long[] picked = Enumerable.Range(0, classes).SelectMany(c => Enumerable.Range(c * perClass, k).Select(i => (long)i)).ToArray();
        using Tensor index = tensor(picked, ScalarType.Int64);
        return images.index_select(0, index);
    }

    /// <summary>The first <paramref name="columns"/> test images of each class, one row per class, for comparison.</summary>
    static Tensor RealGrid(LabelledImages test, int classes, int columns)
    {
        var picked = new List<long>();
        for (int c = 0; c < classes; c++)
            picked.AddRange(Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == c).Take(columns).Select(i => (long)i));
        using Tensor index = tensor(picked.ToArray(), ScalarType.Int64);
        return test.Inputs(index);
    }
}
