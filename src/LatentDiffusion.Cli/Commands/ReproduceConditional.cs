using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Experiments;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm reproduce conditional</c>: grade the class-conditional model with the data's classifier — a sweep of the
/// guidance weight (accuracy, confidence and per-class FID per class), the balanced grid, the report. The models come
/// from a model set (<c>--models</c>: the shipped models/ for MNIST, models/fashion-mnist/ for Fashion-MNIST), each
/// replaceable by its own option.
/// </summary>
public static class ReproduceConditional
{
    public static Command Create()
    {
        var data = CommonOptions.DataOption();
        var models = new Option<string?>("--models")
        {
            Description = $"The model set --classifier, --model, --vae and --unconditional-model default to: a folder with {ModelSet.ClassifierFile}, {ModelSet.VaeFile} and {ModelSet.GeneratorFile} " +
                          $"(and {ShippedFiles.AlphaDeblendingFile}, the unconditional reference, when there). Default: the shipped models/, or models/{IdxDatasetKind.FashionMnistName}/ for --data {IdxDatasetKind.FashionMnistName}.",
        };
        var classifierModel = new Option<string?>("--classifier") { Description = $"Classifier that grades the samples (trained on the data). Default: the set's {ModelSet.ClassifierFile}." };
        var model = new Option<string?>("--model") { Description = $"Class-conditional model. Default: the set's {ModelSet.GeneratorFile}." };
        var vae = new Option<string?>("--vae") { Description = $"The VAE whose latent space the model works in. Default: the set's {ModelSet.VaeFile}." };
        var count = CommonOptions.CountOption(1000);
        count.Description = "Samples per class and guidance weight.";
        var weights = new Option<string?>("--guidance")
        {
            Description = $"Guidance weights to sweep, comma-separated. Default: {string.Join(",", Recipes.GuidanceSweep.Select(w => w.ToString(CultureInfo.InvariantCulture)))} and the weight the model records (ldm diffusion set-guidance), whose row makes the grid.",
        };
        var seed = CommonOptions.SeedOption();
        var samplers = new DiffusionCommand.SamplerOptions();
        var outDir = new Option<string>("--out") { Description = "Run directory: the report goes to OUT/report.", DefaultValueFactory = _ => "runs/conditional" };
        var unconditional = new Option<string?>("--unconditional-model")
        {
            Description = $"The unconditional model whose samples, grouped by the classifier's label, give the per-class FID to beat. Default: the set's {ShippedFiles.AlphaDeblendingFile} (skipped when absent).",
        };
        var train = new Option<bool>("--train") { Description = "Train the conditional model with the shipped recipe (resumable, OUT/model) on the latents of --vae instead of using --model." };
        var report = new Option<string?>("--report") { Description = "Write the report here instead of OUT/report." };
        var interval = CommonOptions.GuidanceIntervalOption();
        var seedsOption = CommonOptions.SeedsOption("every guidance weight's row (accuracy, confidence, per-class FID and the metrics beyond it; not the test digits or the unconditional reference)");
        var json = CommonOptions.JsonOption();
        var command = new Command("conditional", "Grade the class-conditional model: sweep the guidance weight (classifier accuracy, per-class FID), the balanced grid, the report.")
        {
            data, models, classifierModel, model, vae, count, weights, seed, seedsOption, outDir, unconditional, train, report, json,
        };
        samplers.AddTo(command);
        command.Options.Add(interval);
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            string? asked = parse.GetValue(weights);
            double[] sweep = asked is null ? [.. Recipes.GuidanceSweep] : ParseWeights(asked);
            long s = parse.GetValue(seed);
            int seeds = CommonOptions.RequireSeeds(parse.GetValue(seedsOption));
            string dataSpec = parse.GetValue(data)!;
            if (parse.GetValue(models) is { } given && !Directory.Exists(given)) throw new InvalidOptionException($"--models {given}: no such folder");
            string setDirectory = parse.GetValue(models) ?? Defaults.ModelSet(dataSpec);
            string vaePath = CliApp.RequireFile(parse.GetValue(vae) ?? Path.Combine(setDirectory, ModelSet.VaeFile), "VAE");
            string classifierPath = CliApp.RequireFile(parse.GetValue(classifierModel) ?? Path.Combine(setDirectory, ModelSet.ClassifierFile), "classifier");
            DatasetInfo? classifierData = ModelFile.ReadData(classifierPath);
            ImageDataset dataset = CommonOptions.LoadDataset(dataSpec, new DatasetOptions { Resolution = classifierData?.Resolution ?? 32, Channels = classifierData?.Channels });
            ClassWords words = ClassWords.For(dataset.Info);
            if (CountLimit.Problem((long)dataset.Classes * n, $"-n (per class, x{dataset.Classes})") is { } tooMany) throw new InvalidOptionException(tooMany);
            string modelPath = parse.GetValue(train)
                ? ShippedRuns.TrainConditional(dataset, vaePath, Path.Combine(parse.GetValue(outDir)!, "model"), ConsoleRunTrainer.Instance,
                    recordData: dataset.Info.Name != KnownDatasets.Mnist.Name)   // MNIST's shipped recipe records no data
                : parse.GetValue(model) ?? Path.Combine(setDirectory, ModelSet.GeneratorFile);
            modelPath = CliApp.RequireFile(samplers.WeightsPath(parse, CliApp.RequireFile(modelPath, "model")), "model");
            bool unconditionalGiven = parse.GetValue(unconditional) is not null;
            string unconditionalPath = parse.GetValue(unconditional) ?? Path.Combine(setDirectory, ShippedFiles.AlphaDeblendingFile);
            if (unconditionalGiven) unconditionalPath = CliApp.RequireFile(unconditionalPath, "unconditional model");
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
            using (unet)
            using (Vae decoder = ModelFile.LoadVae(vaePath))
            using (Classifier classifier = ModelFile.LoadClassifier(classifierPath))
            {
                if (DataMatch.ClassifierProblem(classifier.Config, classifierData, classifierPath, dataset.Info, sameData: true) is { } problem)
                    throw new InvalidOptionException(problem);
                if (config.UNet.Classes != dataset.Classes)
                    throw new InvalidOptionException($"the model {modelPath} is {(config.UNet.Classes == 0 ? "unconditional, not a class-conditional model" : $"conditional on {config.UNet.Classes} classes")}; {dataset.Info.Describe()} has {dataset.Classes}");
                if (DataMatch.TrainedOnProblem("model", ModelFile.ReadData(modelPath), modelPath, dataset.Info) is { } other)
                    throw new InvalidOptionException(other);
                ModelFile.RequireFits(config, modelPath, decoder, vaePath);
                if (asked is null) sweep = [.. sweep.Append(config.DefaultGuidance).Distinct().Order()];   // the model's own weight is always a row
                SamplingOptions template = samplers.Read(parse, config, modelPath, new SamplingOptions { GuidanceInterval = CommonOptions.ParseInterval(parse.GetValue(interval)) });
                using GuidanceSweepResult result = GuidanceSweep.Run(new GuidanceSweepInputs(unet, config, decoder, vaePath, classifier, dataset, n, sweep, s, template)
                {
                    Unconditional = (unconditionalPath, unconditionalGiven),
                    Seeds = seeds,
                }, ConsoleProgress.Instance);
                string reportDir = parse.GetValue(report) ?? Path.Combine(parse.GetValue(outDir)!, "report");
                ConditionalReport.Write(new ConditionalReportInputs(result.Rows, result.Grid, result.GridGuidance)
                {
                    ModelPath = modelPath, Sampler = GuidanceSweep.Describe(template, config), TestDigits = result.TestDigits, Seed = s,
                    UnconditionalByLabel = result.Unconditional, UnconditionalName = result.UnconditionalName,
                    Words = words, DataName = dataset.Info.Name,
                }, reportDir);
                PrintSweep(result.Rows, result.TestDigits, result.Unconditional, words);
                CliApp.Out.MarkupLineInterpolated($"Report: [bold]{Path.Combine(reportDir, Page.IndexName)}[/]");
                if (parse.GetValue(json))
                    CliApp.WriteJson(new
                    {
                        model = modelPath, per_digit = n, seed = s, sampler = template.SamplerFor(config).Name, steps = template.StepsFor(config),
                        sweep = result.Rows.Select(r => new
                        {
                            guidance = r.Guidance, accuracy = r.Accuracy, worst_accuracy = r.WorstAccuracy, mean_confidence = r.MeanConfidence,
                            mean_fid = r.MeanFid, worst_fid = r.WorstFid, seconds = r.Seconds,
                            mean_precision = r.Mean(d => d.Manifold?.Precision), mean_recall = r.Mean(d => d.Manifold?.Recall), mean_density = r.Mean(d => d.Manifold?.Density),
                            mean_coverage = r.Mean(d => d.Manifold?.Coverage), mean_memorised_fraction = r.Mean(d => d.MemorisedFraction),
                            digits = r.Digits.Select(d => new { digit = d.Digit, correct = d.Correct, count = d.Count, mean_confidence = d.MeanConfidence, fid = d.Fid, quality = Quality(d) }),
                            seeds = r.Seeds, accuracy_min = r.AccuracyRange.Min, accuracy_max = r.AccuracyRange.Max, mean_fid_min = r.MeanFidRange.Min, mean_fid_max = r.MeanFidRange.Max,
                            per_seed = r.PerSeed.Select((p, k) => new
                            {
                                seed = s + k, accuracy = p.Accuracy, worst_accuracy = p.WorstAccuracy, mean_confidence = p.MeanConfidence, mean_fid = p.MeanFid, worst_fid = p.WorstFid,
                                seconds = p.Seconds,
                                mean_precision = p.Mean(d => d.Manifold?.Precision), mean_recall = p.Mean(d => d.Manifold?.Recall), mean_density = p.Mean(d => d.Manifold?.Density),
                                mean_coverage = p.Mean(d => d.Manifold?.Coverage), mean_memorised_fraction = p.Mean(d => d.MemorisedFraction),
                                digits = p.Digits.Select(d => new { digit = d.Digit, correct = d.Correct, count = d.Count, mean_confidence = d.MeanConfidence, fid = d.Fid }),
                            }),
                        }),
                        test_digits = result.TestDigits.Select(d => new { digit = d.Digit, accuracy = d.Accuracy, fid = d.Fid, quality = Quality(d) }),
                        unconditional = result.Unconditional?.Select(d => new { digit = d.Digit, count = d.Count, fid = d.Fid, quality = Quality(d) }),
                        guidance_interval = template.GuidanceInterval is var (glo, ghi) ? new[] { glo, ghi } : null,
                        report = reportDir,
                    });
            }
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>A digit's metrics beyond FID in <c>--json</c> (null values for a group too small for them).</summary>
    static object Quality(DigitGrade d) => new
    {
        precision = d.Manifold?.Precision, recall = d.Manifold?.Recall, density = d.Manifold?.Density, coverage = d.Manifold?.Coverage, memorised_fraction = d.MemorisedFraction,
    };

    static double[] ParseWeights(string text)
    {
        var values = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
                throw new InvalidOptionException($"--guidance must be numbers separated by commas (got '{text}')");
            if (Guidance.WeightProblem(w, "--guidance") is { } problem) throw new InvalidOptionException(problem);
            values.Add(w);
        }
        if (values.Count == 0) throw new InvalidOptionException("--guidance needs at least one weight");
        return values.Distinct().Order().ToArray();
    }

    static void PrintSweep(IReadOnlyList<GuidanceRow> rows, IReadOnlyList<DigitGrade> test, IReadOnlyList<DigitGrade>? reference, ClassWords words)
    {
        int seeds = rows.Max(r => r.Seeds);
        var table = new Table().Title($"Guidance sweep ({(words.IsMnist ? "part 1's" : "the data's")} classifier grades every {words.Singular}; the metrics beyond FID are means over the {words.Classes}" +
                                      (seeds > 1 ? $"; each weight the mean of {seeds} sampling seeds, the lowest-highest in brackets)" : ")"));
        foreach (string h in new[] { "w", "read as asked", $"worst {words.Singular}", "mean confidence", "per-class FID (mean)", "(worst)", "precision", "recall", "density", "coverage", "memorised", "seconds" })
            table.AddColumn(h);
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        static string[] Quality(GuidanceRow r)
        {
            static string M(double? value) => value is double v ? F(v, "F3") : "-";
            return [M(r.Mean(d => d.Manifold?.Precision)), M(r.Mean(d => d.Manifold?.Recall)), M(r.Mean(d => d.Manifold?.Density)), M(r.Mean(d => d.Manifold?.Coverage)), M(r.Mean(d => d.MemorisedFraction))];
        }
        foreach (GuidanceRow r in rows)
            table.AddRow([r.Guidance.ToString("0.0#", CultureInfo.InvariantCulture),
                $"{100 * r.Accuracy:F2} %" + (r.Seeds > 1 ? $" ({F(100 * r.AccuracyRange.Min, "F2")}-{F(100 * r.AccuracyRange.Max, "F2")})" : ""),
                $"{100 * r.WorstAccuracy:F1} %", $"{100 * r.MeanConfidence:F1} %",
                F(r.MeanFid, "F2") + (r.Seeds > 1 ? $" ({F(r.MeanFidRange.Min, "F2")}-{F(r.MeanFidRange.Max, "F2")})" : ""), F(r.WorstFid, "F2"), .. Quality(r), F(r.Seconds, "F0")]);
        var testRow = new GuidanceRow(double.NaN, test, 0);
        table.AddRow([$"test {words.Samples}", $"{100 * testRow.Accuracy:F2} %", $"{100 * testRow.WorstAccuracy:F1} %", $"{100 * testRow.MeanConfidence:F1} %",
            F(testRow.MeanFid, "F2"), F(testRow.WorstFid, "F2"), .. Quality(testRow), ""]);
        if (reference is { Count: > 0 })
        {
            var plain = new GuidanceRow(double.NaN, reference, 0);
            table.AddRow(["unconditional, by label", "", "", "", F(plain.MeanFid, "F2"), F(plain.WorstFid, "F2"), .. Quality(plain), ""]);
        }
        CliApp.Out.Write(table);
    }
}
