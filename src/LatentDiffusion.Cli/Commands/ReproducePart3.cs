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
/// <c>ldm reproduce part3</c>: the series' FID table from the shipped weights — Random, VAE (part 2's samples),
/// Diffusion (10,000 DDPM digits decoded by the latent VAE), Validation — plus the floors (each VAE's reconstructions of
/// the test set) and the classifier's census of the generated digits. <c>--train</c> retrains the latent VAE, tunes its decoder and retrains the
/// diffusion model first (resumable).
/// </summary>
public static class ReproducePart3
{
    public static Command Create()
    {
        var data = CommonOptions.DataOption();
        var classifierModel = new Option<string>("--classifier")
        {
            Description = "Classifier for MNIST-FID and the census. Default: the shipped one.",
            DefaultValueFactory = _ => Defaults.ClassifierModel,
        };
        var vae = CommonOptions.VaeOption("latent-vae.safetensors");
        var part2Vae = new Option<string>("--part2-vae")
        {
            Description = "Part 2's VAE, for the table's VAE row. Default: the shipped models/vae.safetensors.",
            DefaultValueFactory = _ => Defaults.Model("vae.safetensors"),
        };
        var model = CommonOptions.DiffusionModelOption();
        var count = CommonOptions.CountOption(10_000);
        var seed = CommonOptions.SeedOption();
        var clip = new Option<bool>("--clip-x0") { Description = "Clamp x̂_0 to the training latents' range while sampling (not in the post)." };
        var train = new Option<bool>("--train") { Description = "Retrain the latent VAE (and tune its decoder against a second classifier), then the diffusion models on its latents, with the shipped recipes (resumable) instead of using the shipped weights." };
        var outDir = new Option<string>("--out") { Description = "Run directory: samples, table, report (and training runs with --train).", DefaultValueFactory = _ => "runs/part3" };
        var report = new Option<string?>("--report") { Description = "Write the report here instead of OUT/report." };
        var iadbModel = new Option<string>("--iadb-model")
        {
            Description = "The α-deblending model for the sampler table. Default: the shipped models/alpha-deblending.safetensors (its rows are skipped, with a note, when it is absent).",
            DefaultValueFactory = _ => Defaults.Model(ShippedFiles.AlphaDeblendingFile),
        };
        var iadbWideModel = new Option<string>("--iadb-wide-model")
        {
            Description = "The wide α-deblending model, UNet (64, 128), for the sampler table's best rows; 'none' leaves them out. Default: the shipped models/alpha-deblending-wide.safetensors (skipped, with a note, when absent or not of this VAE).",
            DefaultValueFactory = _ => Defaults.Model(ShippedFiles.WideAlphaDeblendingFile),
        };
        var studentModel = new Option<string>("--student-model")
        {
            Description = "The distilled student (ldm diffusion distill) for the sampler table's 1-, 2- and 4-evaluation rows; 'none' leaves them out. Default: the shipped models/student.safetensors (skipped, with a note, when absent or not of this VAE).",
            DefaultValueFactory = _ => Defaults.Model(ShippedFiles.StudentFile),
        };
        var samplers = new Option<string>("--samplers")
        {
            Description = "The sampler table: none; quick (DDIM 50, α-deblending Euler 50 and Heun 25, the wide model's Heun 10 and DPM-Solver++(2M) 10, the student's 1, 2 and 4 steps, EMA weights; minutes); full (DDPM, DDIM and α-deblending at 10-250 steps, the wide model at 5-50, EMA and raw weights; about half an hour).",
            DefaultValueFactory = _ => "quick",
        };
        samplers.AcceptOnlyFromAmong("none", "quick", "full");
        var samplerSeeds = CommonOptions.SeedsOption("the rows that depend on the sampling seed (the series' VAE and Diffusion rows, every sampler-table row; not Validation, Random or the floors)");
        var json = CommonOptions.JsonOption();
        var command = new Command("part3", "Part 3: sample the latent diffusion model, score it and part 2's VAE with MNIST-FID (the series' table), compare samplers, write the report.")
        {
            data, classifierModel, vae, part2Vae, model, count, seed, clip, train, outDir, report, iadbModel, iadbWideModel, studentModel, samplers, samplerSeeds, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            long s = parse.GetValue(seed);
            int seeds = CommonOptions.RequireSeeds(parse.GetValue(samplerSeeds));
            string run = parse.GetValue(outDir)!;
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);
            string vaePath = parse.GetValue(vae)!, modelPath = parse.GetValue(model)!;
            string? trainedAlpha = null, trainedWide = null;
            string? widePath = parse.GetValue(iadbWideModel) is "none" ? null : parse.GetValue(iadbWideModel)!;
            bool wideGiven = widePath is not null && parse.GetResult(iadbWideModel) is { Implicit: false };
            if (parse.GetValue(train)) (vaePath, _, modelPath, trainedAlpha, trainedWide) = ShippedRuns.TrainPart3(mnist, run, widePath is not null, ConsoleRunTrainer.Instance);
            if (trainedWide is not null && !wideGiven) widePath = trainedWide;
            if (wideGiven) widePath = CliApp.RequireFile(widePath, "wide α-deblending model");
            string? studentPath = parse.GetValue(studentModel) is "none" ? null : parse.GetValue(studentModel)!;
            bool studentGiven = studentPath is not null && parse.GetResult(studentModel) is { Implicit: false };
            if (studentGiven) studentPath = CliApp.RequireFile(studentPath, "student");
            vaePath = CliApp.RequireFile(vaePath, "VAE");
            modelPath = CliApp.RequireFile(modelPath, "diffusion model");
            string part2VaePath = CliApp.RequireFile(parse.GetValue(part2Vae), "part 2 VAE");
            string classifierPath = CliApp.RequireFile(parse.GetValue(classifierModel), "classifier");
            string iadbPath = parse.GetValue(iadbModel)!;
            bool iadbGiven = parse.GetResult(iadbModel) is { Implicit: false };
            if (iadbGiven) iadbPath = CliApp.RequireFile(iadbPath, "α-deblending model");
            if (trainedAlpha is not null && !iadbGiven) iadbPath = trainedAlpha;
            Part3Result result = Part3Reproduction.Run(new Part3Inputs(mnist, classifierPath, vaePath, part2VaePath, modelPath, run, parse.GetValue(report) ?? Path.Combine(run, "report"))
            {
                Count = n, Seed = s, ClipX0 = parse.GetValue(clip), AlphaPath = iadbPath, Wide = widePath is null ? null : (widePath, wideGiven),
                Student = studentPath is null ? null : (studentPath, studentGiven),
                Seeds = seeds,
                Samplers = parse.GetValue(samplers) switch { "none" => null, "full" => SamplerTableSize.Full, _ => SamplerTableSize.Quick },
            }, ConsoleProgress.Instance);
            PrintTable(result.Rows, result.Census, n, s, seeds, result.SampleSeconds, result.ClassifierSha256);
            if (result.SamplerRows.Count > 0) PrintSamplerTable(result.SamplerRows);
            foreach (string note in result.Notes) ConsoleProgress.Instance.Note(note);
            CliApp.Out.MarkupLineInterpolated($"Report: [bold]{result.Report.IndexPath}[/] ({result.Report.Figures.Count} figures; also {result.Report.MarkdownPath}).");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    count = n,
                    seed = s,
                    sample_seconds = result.SampleSeconds,
                    diffusion_model = modelPath,
                    vae = vaePath,
                    classifier_sha256 = result.ClassifierSha256,
                    rows = result.Rows.Select(r => ReproducePart2.RowJson(r, s)),
                    memorisation_threshold = result.MemorisationThreshold,
                    seconds_quality = result.QualitySeconds,
                    seconds_quality_setup = result.QualitySetupSeconds,
                    census = new { counts = result.Census.Counts, mean_confidence = result.Census.MeanConfidence, total_variation = result.Census.TotalVariation },
                    samplers = result.SamplerRows.Select(r => new
                    {
                        model = r.Model, sampler = r.Sampler, steps = r.Steps, evaluations = r.Evaluations, weights = r.Ema ? "ema" : "raw",
                        fid_preact = r.FidPreact, fid_flatten = r.FidFlatten, ratio_to_validation = r.RatioToValidation, seconds = r.Seconds, count = r.Count,
                        precision = r.Manifold?.Precision, recall = r.Manifold?.Recall, density = r.Manifold?.Density, coverage = r.Manifold?.Coverage,
                        memorised_fraction = r.MemorisedFraction,
                        seeds = r.Seeds, fid_preact_min = r.FidPreactRange.Min, fid_preact_max = r.FidPreactRange.Max,
                        per_seed = r.PerSeed.Select((p, k) => new
                        {
                            seed = s + k, fid_preact = p.FidPreact, fid_flatten = p.FidFlatten, ratio_to_validation = p.RatioToValidation, seconds = p.Seconds,
                            precision = p.Manifold?.Precision, recall = p.Manifold?.Recall, density = p.Manifold?.Density, coverage = p.Manifold?.Coverage,
                            memorised_fraction = p.MemorisedFraction,
                        }),
                    }),
                    report = result.Report.IndexPath,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    static void PrintSamplerTable(IReadOnlyList<SamplerRow> rows)
    {
        bool seeds = rows.Any(r => r.Seeds > 1);
        var table = new Table().Title("Samplers (FID of each row's digits against the training images" +
                                      (seeds ? $"; the mean of {rows.Max(r => r.Seeds)} sampling seeds, the FID's lowest-highest in brackets)" : ")"));
        foreach (string h in new[] { "model", "sampler", "steps", "NFE", "weights", "FID preact", "FID flatten", "÷ Validation", "precision", "recall", "density", "coverage", "memorised", "seconds" })
            table.AddColumn(h);
        static string M(double? value) => value is double v ? v.ToString("F3", CultureInfo.InvariantCulture) : "-";
        foreach (SamplerRow r in rows)
            table.AddRow(r.Model.EscapeMarkup(), r.Sampler.EscapeMarkup(), r.Steps.ToString(CultureInfo.InvariantCulture), r.Evaluations.ToString(CultureInfo.InvariantCulture),
                r.Ema ? "EMA" : "raw", r.FidPreact.ToString("F3", CultureInfo.InvariantCulture) + (r.Seeds > 1 ? string.Create(CultureInfo.InvariantCulture, $" ({r.FidPreactRange.Min:F3}-{r.FidPreactRange.Max:F3})") : ""), r.FidFlatten.ToString("F3", CultureInfo.InvariantCulture),
                r.RatioToValidation.ToString("F2", CultureInfo.InvariantCulture), M(r.Manifold?.Precision), M(r.Manifold?.Recall), M(r.Manifold?.Density),
                M(r.Manifold?.Coverage), M(r.MemorisedFraction), r.Seconds.ToString("F1", CultureInfo.InvariantCulture));
        CliApp.Out.Write(table);
    }

    static void PrintTable(IReadOnlyList<GeneratorFidRow> rows, DigitCensus census, int n, long seed, int seeds, double sampleSeconds, string classifierSha)
    {
        string which = seeds > 1 ? $" (seed {seed}, the first of {seeds})" : "";
        string note = string.Create(CultureInfo.InvariantCulture,
            $"Diffusion: {n} digits{which} in {sampleSeconds:F0} s. Classifier labels: {string.Join(" ", census.Counts.Select((c, d) => $"{d}:{c}"))} (total variation from MNIST's proportions {census.TotalVariation:F3}; mean confidence {census.MeanConfidence:P1}).");
        ReproducePart2.PrintTable("The series' FID table (every row against the 60k training images)", Part3Reproduction.RowOrder.Select(name => rows.First(x => x.Name == name)).ToList(), classifierSha, note);
    }
}
