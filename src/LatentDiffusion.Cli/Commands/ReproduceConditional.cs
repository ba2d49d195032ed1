using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Generation;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm reproduce conditional</c>: grade the class-conditional model with part 1's classifier — a sweep of the
/// guidance weight (accuracy, confidence and per-class FID per digit), the balanced grid, the report.
/// </summary>
public static class ReproduceConditional
{
    /// <summary>The shipped class-conditional model's recipe: part 3's training cut to 100 epochs (the time the session had).</summary>
    public static TrainingConfig ConditionalRecipe { get; } = ReproducePart3.DiffusionRecipe with { Epochs = 100 };

    /// <summary>Its model: part 3's UNet with ten classes, α-deblending (α·1000 in the embedding), labels dropped with p = 0.1.</summary>
    public static DiffusionConfig ConditionalModel(DiffusionConfig latents) => latents with
    {
        UNet = ReproducePart3.DiffusionUNet(latents.UNet.LatentChannels) with { Classes = 10 },
        Objective = DiffusionObjective.AlphaDeblending,
        LabelDropout = 0.1,
    };

    /// <summary>The guidance weights of the sweep.</summary>
    public static IReadOnlyList<double> SweepWeights { get; } = [0, 1, 1.5, 2, 3, 4];

    public static Command Create()
    {
        var data = ClassifierCommand.DataOption();
        var classifierModel = new Option<string>("--classifier") { Description = "Classifier that grades the digits. Default: the shipped one.", DefaultValueFactory = _ => Defaults.ClassifierModel };
        var model = new Option<string>("--model") { Description = $"Class-conditional model. Default: the shipped models/{GenerateCommand.ConditionalFile}.", DefaultValueFactory = _ => Defaults.Model(GenerateCommand.ConditionalFile) };
        var vae = DiffusionCommand.VaeOption("latent-vae.safetensors");
        var count = Part2Commands.CountOption(1000);
        count.Description = "Samples per digit and guidance weight.";
        var weights = new Option<string>("--guidance") { Description = "Guidance weights to sweep, comma-separated.", DefaultValueFactory = _ => string.Join(",", SweepWeights.Select(w => w.ToString(CultureInfo.InvariantCulture))) };
        var seed = Part2Commands.SeedOption();
        var samplers = new DiffusionCommand.SamplerOptions();
        var outDir = new Option<string>("--out") { Description = "Run directory: the report goes to OUT/report.", DefaultValueFactory = _ => "runs/conditional" };
        var unconditional = new Option<string>("--unconditional-model") { Description = "The unconditional model whose samples, grouped by the classifier's label, give the per-class FID to beat. Default: the shipped models/alpha-deblending.safetensors (skipped when absent).", DefaultValueFactory = _ => Defaults.Model(ReproducePart3.AlphaDeblendingFile) };
        var train = new Option<bool>("--train") { Description = "Train the conditional model with the shipped recipe (resumable, OUT/model) on the latents of --vae instead of using --model." };
        var report = new Option<string?>("--report") { Description = "Write the report here instead of OUT/report." };
        var interval = GenerateCommand.GuidanceIntervalOption();
        var json = ClassifierCommand.JsonOption();
        var command = new Command("conditional", "Grade the class-conditional model: sweep the guidance weight (classifier accuracy, per-class FID), the balanced grid, the report.")
        {
            data, classifierModel, model, vae, count, weights, seed, outDir, unconditional, train, report, json,
        };
        samplers.AddTo(command);
        command.Options.Add(interval);
        command.SetAction(CliApp.Action(parse =>
        {
            int n = Part2Commands.RequireCount(parse.GetValue(count));
            double[] sweep = ParseWeights(parse.GetValue(weights)!);
            long s = parse.GetValue(seed);
            string vaePath = CliApp.RequireFile(parse.GetValue(vae), "VAE");
            string classifierPath = CliApp.RequireFile(parse.GetValue(classifierModel), "classifier");
            MnistData mnist = ClassifierCommand.LoadData(parse.GetValue(data)!);
            string modelPath = parse.GetValue(train) ? Train(mnist, vaePath, Path.Combine(parse.GetValue(outDir)!, "model")) : parse.GetValue(model)!;
            modelPath = CliApp.RequireFile(samplers.WeightsPath(parse, CliApp.RequireFile(modelPath, "model")), "model");
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
            using (unet)
            using (Vae decoder = ModelFile.LoadVae(vaePath))
            using (Classifier classifier = ClassifierCommand.LoadClassifier(classifierPath))
            {
                if (config.UNet.Classes != 10) throw new InvalidOptionException($"{modelPath} is not a class-conditional MNIST model (it has {config.UNet.Classes} classes)");
                ModelFile.RequireFits(config, modelPath, decoder, vaePath);
                int[] labels = Enumerable.Range(0, 10).SelectMany(d => Enumerable.Repeat(d, n)).ToArray();
                SamplingOptions template = samplers.Read(parse, config, modelPath, new SamplingOptions { Labels = labels, GuidanceInterval = GenerateCommand.ParseInterval(parse.GetValue(interval)) });
                string how = template.Describe(config) + (template.GuidanceInterval is var (lo, hi) ? $", guidance at noise levels {lo.ToString(CultureInfo.InvariantCulture)}-{hi.ToString(CultureInfo.InvariantCulture)}" : "");
                CliApp.Err.MarkupLine("[grey]Per-class statistics of the training digits…[/]");
                var grading = new ConditionalGrading(classifier, mnist);
                var rows = new List<GuidanceRow>();
                Tensor? grid = null;
                foreach (double w in sweep)
                {
                    var watch = System.Diagnostics.Stopwatch.StartNew();
                    using LatentSamples samples = DiffusionCommand.WithProgress($"w = {w.ToString(CultureInfo.InvariantCulture)}: {labels.Length} digits, {how}", p =>
                        LatentDiffusionSampler.Generate(unet, config, decoder, labels.Length, s, template with { Guidance = w }, p));
                    double seconds = watch.Elapsed.TotalSeconds;
                    var grades = Enumerable.Range(0, 10).Select(d => grading.Grade(samples.Images.narrow(0, (long)d * n, n), d)).ToList();
                    var row = new GuidanceRow(w, grades, seconds);
                    rows.Add(row);
                    CliApp.Err.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"[grey]w = {w}: {100 * row.Accuracy:F2} % read as asked (worst digit {100 * row.WorstAccuracy:F1} %), per-class FID mean {row.MeanFid:F2} (worst {row.WorstFid:F2}), {seconds:F0} s[/]");
                    if (w == GenerateCommand.DefaultGuidance || (grid is null && w == sweep[^1]))
                    {
                        grid?.Dispose();
                        grid = cat(Enumerable.Range(0, 10).Select(d => samples.Images.narrow(0, (long)d * n, Math.Min(n, 10))).ToArray(), 0);
                    }
                }
                using Tensor testInputs = mnist.Test.ToInputs();
                byte[] testLabels = mnist.Test.Labels.ToArray();
                var testGrades = Enumerable.Range(0, 10).Select(d =>
                {
                    using Tensor index = tensor(Enumerable.Range(0, testLabels.Length).Where(i => testLabels[i] == d).Select(i => (long)i).ToArray());
                    using Tensor digits = testInputs.index_select(0, index);
                    return grading.Grade(digits, d);
                }).ToList();
                IReadOnlyList<DigitGrade>? reference = null;
                string? referenceName = null;
                string unconditionalPath = parse.GetValue(unconditional)!;
                bool unconditionalGiven = parse.GetResult(unconditional) is { Implicit: false };
                if (unconditionalGiven) unconditionalPath = CliApp.RequireFile(unconditionalPath, "unconditional model");
                (UNet Net, DiffusionConfig Config)? loadedPlain = File.Exists(unconditionalPath) ? ModelFile.LoadDiffusion(unconditionalPath) : null;
                if (loadedPlain is var (net, netConfig) && !unconditionalGiven && !netConfig.LatentShape.SequenceEqual(decoder.LatentShape))
                {
                    // The shipped default works on the shipped latent VAE; with another VAE it is skipped, not an error.
                    CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {unconditionalPath} does not fit the VAE {vaePath}; the report has no unconditional reference");
                    net.Dispose();
                    loadedPlain = null;
                }
                if (loadedPlain is var (plain, plainConfig))
                {
                    using (plain)
                    {
                        if (plainConfig.UNet.Classes != 0) throw new InvalidOptionException($"--unconditional-model {unconditionalPath} is class-conditional");
                        ModelFile.RequireFits(plainConfig, unconditionalPath, decoder, vaePath);
                        var plainOptions = new SamplingOptions();
                        referenceName = $"{Path.GetFileName(unconditionalPath)} ({plainOptions.Describe(plainConfig)}), {labels.Length} digits grouped by the classifier's label";
                        using LatentSamples plainSamples = DiffusionCommand.WithProgress($"unconditional reference: {labels.Length} digits", p =>
                            LatentDiffusionSampler.Generate(plain, plainConfig, decoder, labels.Length, s, plainOptions, p));
                        reference = grading.GradeByLabel(plainSamples.Images);
                        CliApp.Err.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]unconditional reference: per-class FID mean {reference.Average(g => g.Fid):F2} (worst {reference.Max(g => g.Fid):F2})[/]");
                    }
                }
                else CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] no unconditional model at {unconditionalPath}; the report has no unconditional reference");
                double gridW = sweep.Contains(GenerateCommand.DefaultGuidance) ? GenerateCommand.DefaultGuidance : sweep[^1];
                string reportDir = parse.GetValue(report) ?? Path.Combine(parse.GetValue(outDir)!, "report");
                using (grid)
                    ConditionalReport.Write(new ConditionalReportInputs(rows, grid!, gridW)
                    {
                        ModelPath = modelPath, Sampler = how, TestDigits = testGrades, Seed = s,
                        UnconditionalByLabel = reference, UnconditionalName = referenceName,
                    }, reportDir);
                PrintSweep(rows, testGrades, reference);
                CliApp.Out.MarkupLineInterpolated($"Report: [bold]{Path.Combine(reportDir, Page.IndexName)}[/]");
                if (parse.GetValue(json))
                    CliApp.WriteJson(new
                    {
                        model = modelPath, per_digit = n, seed = s, sampler = SamplingOptions.Name(template.SamplerFor(config)), steps = template.StepsFor(config),
                        sweep = rows.Select(r => new
                        {
                            guidance = r.Guidance, accuracy = r.Accuracy, worst_accuracy = r.WorstAccuracy, mean_confidence = r.MeanConfidence,
                            mean_fid = r.MeanFid, worst_fid = r.WorstFid, seconds = r.Seconds,
                            digits = r.Digits.Select(d => new { digit = d.Digit, correct = d.Correct, count = d.Count, mean_confidence = d.MeanConfidence, fid = d.Fid }),
                        }),
                        test_digits = testGrades.Select(d => new { digit = d.Digit, accuracy = d.Accuracy, fid = d.Fid }),
                        unconditional = reference?.Select(d => new { digit = d.Digit, count = d.Count, fid = d.Fid }),
                        guidance_interval = template.GuidanceInterval is var (glo, ghi) ? new[] { glo, ghi } : null,
                        report = reportDir,
                    });
            }
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>Trains (or resumes, or reuses) the conditional recipe on the latents of <paramref name="vaePath"/>.</summary>
    static string Train(MnistData mnist, string vaePath, string run)
    {
        using var latents = LatentSet.Encode(vaePath, mnist, ConditionalRecipe.Seed);
        DiffusionConfig config = ConditionalModel(latents.Config(ReproducePart3.DiffusionUNet(latents.Channels)));
        using var task = new Training.DiffusionTask(latents.Train, latents.Test, config, latents.TrainLabels, latents.TestLabels);
        return RunReuse.EnsureTrained(task, ConditionalRecipe, run, "class-conditional model");
    }

    static double[] ParseWeights(string text)
    {
        var values = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !double.IsFinite(w) || w < 0)
                throw new InvalidOptionException($"--guidance must be finite numbers ≥ 0 separated by commas (got '{text}')");
            values.Add(w);
        }
        if (values.Count == 0) throw new InvalidOptionException("--guidance needs at least one weight");
        return values.Distinct().Order().ToArray();
    }

    static void PrintSweep(IReadOnlyList<GuidanceRow> rows, IReadOnlyList<DigitGrade> test, IReadOnlyList<DigitGrade>? reference)
    {
        var table = new Table().Title("Guidance sweep (part 1's classifier grades every digit)");
        foreach (string h in new[] { "w", "read as asked", "worst digit", "mean confidence", "per-class FID (mean)", "(worst)", "seconds" }) table.AddColumn(h);
        foreach (GuidanceRow r in rows)
            table.AddRow(r.Guidance.ToString("0.0#", CultureInfo.InvariantCulture), $"{100 * r.Accuracy:F2} %", $"{100 * r.WorstAccuracy:F1} %", $"{100 * r.MeanConfidence:F1} %",
                r.MeanFid.ToString("F2", CultureInfo.InvariantCulture), r.WorstFid.ToString("F2", CultureInfo.InvariantCulture), r.Seconds.ToString("F0", CultureInfo.InvariantCulture));
        table.AddRow("test digits", $"{100 * test.Sum(d => d.Correct) / (double)test.Sum(d => d.Count):F2} %", $"{100 * test.Min(d => d.Accuracy):F1} %", $"{100 * test.Average(d => d.MeanConfidence):F1} %",
            test.Average(d => d.Fid).ToString("F2", CultureInfo.InvariantCulture), test.Max(d => d.Fid).ToString("F2", CultureInfo.InvariantCulture), "");
        if (reference is { Count: > 0 })
            table.AddRow("unconditional, by label", "", "", "", reference.Average(d => d.Fid).ToString("F2", CultureInfo.InvariantCulture), reference.Max(d => d.Fid).ToString("F2", CultureInfo.InvariantCulture), "");
        CliApp.Out.Write(table);
    }
}
