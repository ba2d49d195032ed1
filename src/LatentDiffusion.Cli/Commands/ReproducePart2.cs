using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Sampling;
using LatentDiffusion.Experiments;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using Spectre.Console;
using ValidationResult = LatentDiffusion.Training.ValidationResult;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm reproduce part2</c>: part 2 from the shipped weights — evaluate the autoencoder and the VAE on the test set,
/// score 10,000 samples of each (and the reconstructions, the floor) with MNIST-FID against the training set, and
/// write the report. <c>--train</c> retrains both with the shipped recipes (<see cref="Recipes"/>), resumably.
/// </summary>
public static class ReproducePart2
{
    public static Command Create()
    {
        var data = CommonOptions.DataOption();
        var classifierModel = new Option<string>("--classifier") { Description = "Classifier for MNIST-FID. Default: the shipped one.", DefaultValueFactory = _ => Defaults.ClassifierModel };
        var ae = new Option<string>("--autoencoder") { Description = "Autoencoder weights. Default: the shipped models/autoencoder.safetensors.", DefaultValueFactory = _ => Defaults.Model("autoencoder.safetensors") };
        var vae = new Option<string>("--vae") { Description = "VAE weights. Default: the shipped models/vae.safetensors.", DefaultValueFactory = _ => Defaults.Model("vae.safetensors") };
        var count = CommonOptions.CountOption(10_000);
        var seed = CommonOptions.SeedOption();
        var train = new Option<bool>("--train") { Description = "Retrain the autoencoder and the VAE with the shipped recipes (resumable) instead of using the shipped weights." };
        var outDir = new Option<string>("--out") { Description = "Run directory: report/ (and the training runs with --train).", DefaultValueFactory = _ => "runs/part2" };
        var report = new Option<string?>("--report") { Description = "Write the report here instead of OUT/report." };
        var seedsOption = CommonOptions.SeedsOption("the sampled rows (VAE, AE; not Validation, Random or the reconstructions)");
        var json = CommonOptions.JsonOption();
        var command = new Command("part2", "Part 2: evaluate the autoencoder and the VAE, MNIST-FID of their samples (and reconstructions), the post's figures as a report.")
        {
            data, classifierModel, ae, vae, count, seed, train, outDir, report, seedsOption, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            long s = parse.GetValue(seed);
            int seeds = CommonOptions.RequireSeeds(parse.GetValue(seedsOption));
            string run = parse.GetValue(outDir)!;
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);
            string aePath = parse.GetValue(ae)!, vaePath = parse.GetValue(vae)!;
            if (parse.GetValue(train)) (aePath, vaePath) = ShippedRuns.TrainPart2(mnist, run, ConsoleRunTrainer.Instance);
            aePath = CliApp.RequireFile(aePath, "autoencoder");
            vaePath = CliApp.RequireFile(vaePath, "VAE");
            string classifierPath = CliApp.RequireFile(parse.GetValue(classifierModel), "classifier");

            using Classifier classifier = ModelFile.LoadClassifier(classifierPath);
            using ConvAutoencoder autoencoder = ModelFile.LoadAutoencoder(aePath);
            using Vae model = ModelFile.LoadVae(vaePath);
            using Tensor test = mnist.Test.ToInputs();
            var evalGenerator = new Generator(unchecked((ulong)s));
            ValidationResult aeEval, vaeEval;
            using (no_grad())
            {
                aeEval = new AutoencoderTask(test, test, autoencoder.Config).Validate(autoencoder, 1000, evalGenerator);
                vaeEval = new VaeTask(test, test, model.Config).Validate(model, 1000, evalGenerator);
            }
            evalGenerator.Dispose();

            CliApp.Err.MarkupLine("[grey]Sampling and computing MNIST-FID (both feature definitions)…[/]");
            var scorer = new FidScorer(classifier, mnist);
            IReadOnlyList<GeneratorFidRow> rows = Part2Reproduction.FidTable(classifier, autoencoder, model, mnist, n, s, seeds, scorer);

            string reportDir = parse.GetValue(report) ?? Path.Combine(run, "report");
            var inputs = new Part2ReportInputs(autoencoder, model, mnist)
            {
                AutoencoderPath = aePath,
                VaePath = vaePath,
                AutoencoderHistory = TrainingHistory.Beside(aePath),
                VaeHistory = TrainingHistory.Beside(vaePath),
                FidRows = rows,
            };
            Part2ReportResult result = Part2Report.Write(inputs, reportDir, new Part2ReportConfig { Seed = (int)s },
                new Progress<string>(m => CliApp.Err.MarkupLineInterpolated($"[grey]{m}[/]")));

            CliApp.Out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Autoencoder {aePath}: test SSE [bold]{aeEval.Loss:F3}[/] per image (the post's curve ends near {BlogPart2.AutoencoderValLossLast}). {autoencoder.ParameterCount()} parameters.");
            CliApp.Out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"VAE {vaePath}: test loss [bold]{vaeEval.Loss:F3}[/] = reconstruction {vaeEval.Metrics[0].Value:F3} + KL {vaeEval.Metrics[1].Value:F3}. {model.ParameterCount()} parameters.");
            PrintTable("MNIST-FID against the 60k training images", rows, ModelWeights.Sha256(classifierPath));
            CliApp.Out.MarkupLineInterpolated($"Report: [bold]{result.IndexPath}[/] ({result.Figures.Count} figures; also {result.MarkdownPath}).");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    autoencoder = new { model = aePath, sha256 = ModelWeights.Sha256(aePath), parameters = autoencoder.ParameterCount(), test_sse = aeEval.Loss },
                    vae = new { model = vaePath, sha256 = ModelWeights.Sha256(vaePath), parameters = model.ParameterCount(), test_loss = vaeEval.Loss, test_rec = vaeEval.Metrics[0].Value, test_kl = vaeEval.Metrics[1].Value },
                    count = n,
                    seed = s,
                    classifier_sha256 = ModelWeights.Sha256(classifierPath),
                    rows = rows.Select(r => RowJson(r, s)),
                    memorisation_threshold = scorer.MemorisationThreshold,
                    seconds_quality = scorer.QualitySeconds,
                    seconds_quality_setup = scorer.QualitySetupSeconds,
                    report = result.IndexPath,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>
    /// A row of parts 2 and 3's FID table in <c>--json</c>: the FIDs and ratios, then the metrics beyond FID (null for a row
    /// too small for them); a row sampled at several seeds (from <paramref name="seed"/> on) also gives its range and each seed's numbers, as the sampler table's rows.
    /// </summary>
    internal static object RowJson(GeneratorFidRow r, long seed) => new
    {
        name = r.Name, fid_preact = r.FidPreact, fid_flatten = r.FidFlatten, ratio_to_random = r.RatioToRandom, ratio_to_validation = r.RatioToValidation, post_fid = r.BlogFid,
        precision = r.Manifold?.Precision, recall = r.Manifold?.Recall, density = r.Manifold?.Density, coverage = r.Manifold?.Coverage,
        memorised_fraction = r.MemorisedFraction, warnings = r.Warnings,
        seeds = r.Seeds, fid_preact_min = r.FidPreactRange.Min, fid_preact_max = r.FidPreactRange.Max,
        per_seed = r.PerSeed.Select((p, k) => new
        {
            seed = seed + k, fid_preact = p.FidPreact, fid_flatten = p.FidFlatten, ratio_to_random = p.RatioToRandom, ratio_to_validation = p.RatioToValidation,
            precision = p.Manifold?.Precision, recall = p.Manifold?.Recall, density = p.Manifold?.Density, coverage = p.Manifold?.Coverage,
            memorised_fraction = p.MemorisedFraction,
        }),
    };

    /// <summary>An FID table (rows in the given order) and the classifier it was computed with; parts 2 and 3 print theirs with it.</summary>
    internal static void PrintTable(string title, IReadOnlyList<GeneratorFidRow> rows, string classifierSha, string? note = null)
    {
        int seeds = rows.Max(r => r.Seeds);
        var table = new Table().Title(title + (seeds > 1 ? $"; the sampled rows the mean of {seeds} sampling seeds, the FID's lowest-highest in brackets" : ""));
        foreach (string c in new[] { "row", "FID preact", "FID flatten", "÷ Random", "÷ Validation", "post FID", "post ÷ Validation", "precision", "recall", "density", "coverage", "memorised" })
            table.AddColumn(c == "row" ? new TableColumn(c) : new TableColumn(c).RightAligned());
        static string M(double? value) => value is double v ? F(v, "F3") : "-";
        foreach (GeneratorFidRow r in rows)
            table.AddRow(Markup.Escape(r.Name), F(r.FidPreact, "F2") + (r.Seeds > 1 ? $" ({F(r.FidPreactRange.Min, "F2")}-{F(r.FidPreactRange.Max, "F2")})" : ""), F(r.FidFlatten, "F2"), F(r.RatioToRandom, "F4"), F(r.RatioToValidation, "F1") + "x",
                r.BlogFid is double b ? F(b, "F2") : "", r.BlogRatioToValidation is double br ? F(br, "F1") + "x" : "",
                M(r.Manifold?.Precision), M(r.Manifold?.Recall), M(r.Manifold?.Density), M(r.Manifold?.Coverage), M(r.MemorisedFraction));
        CliApp.Out.Write(table);
        if (note is not null) CliApp.Out.MarkupLine(Markup.Escape(note));
        CliApp.Out.MarkupLine("Precision and recall (k = 3), density and coverage (k = 5) against the training images, and memorised: the share of a row's images nearer " +
                              "to a training image than 99% of the test images are (Validation: 0.010 by construction); docs/metrics.md.");
        foreach (string warning in rows.SelectMany(r => r.Warnings).Distinct()) Console.Error.WriteLine($"ldm: warning: {warning}");
        CliApp.Out.MarkupLineInterpolated($"classifier {classifierSha[..12]}; FID values scale with its weights: compare ratios with the posts'.");
    }

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
