using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm fid A B</c>, <c>ldm fid stats SOURCE -o FILE.npz</c> and <c>ldm fid baselines</c>: MNIST-FID between
/// two sources (IDX file, image folder or statistics .npz), saved statistics, and part 1's baseline table.
/// </summary>
public static class FidCommand
{
    public static Command Create()
    {
        // `fid` takes the two sources itself and also has subcommands; System.CommandLine matches a subcommand name
        // first, so `fid stats x -o y` runs stats and `fid a b` compares (a file literally named "stats" needs ./stats).
        var a = new Argument<string?>("A") { Description = "First source: IDX images file (raw or .gz), folder of 28x28/32x32 PNGs, or statistics .npz.", Arity = ArgumentArity.ZeroOrOne };
        var b = new Argument<string?>("B") { Description = "Second source, same kinds.", Arity = ArgumentArity.ZeroOrOne };
        var classifier = ClassifierOption();
        var features = FeaturesOption();
        var batch = BatchSizeOption();
        var all = new Option<bool>("--all")
        {
            Description = "Also precision and recall (k = 3), density and coverage (k = 5) of A against B, and memorisation: A's nearest images in B " +
                          "(B the training set) against the held-out set's. Needs images on both sides, not statistics. See docs/metrics.md.",
        };
        var heldOut = new Option<string?>("--held-out")
        {
            Description = "With --all: real images the generator never saw, whose nearest-B distances set the memorisation threshold. Default: the MNIST test set in --data.",
        };
        var pairs = new Option<string?>("--pairs") { Description = "With --all: write the figure of the 16 closest (A, nearest B) pairs to this .png." };
        var data = CommonOptions.DataOption();
        var json = CommonOptions.JsonOption();
        var command = new Command("fid", "MNIST-FID between two image sets or statistics files (the series' quality metric).")
        {
            a, b, classifier, features, batch, all, heldOut, pairs, data, json,
        };
        // Both sources are required when `fid` itself runs; a parse error, so exit code 2 like any usage error.
        command.Validators.Add(result =>
        {
            if (result.GetValue(a) is null || result.GetValue(b) is null)
                result.AddError("fid needs two sources A and B (or a subcommand: stats, baselines); see 'ldm fid --help'");
        });
        command.Subcommands.Add(CreateStats());
        command.Subcommands.Add(CreateBaselines());
        command.SetAction(CliApp.Action(parse =>
        {
            var config = Config(parse.GetValue(features)!, parse.GetValue(batch));
            if (parse.GetValue(all))
                return All(parse.GetValue(a)!, parse.GetValue(b)!, config, parse.GetValue(classifier)!, parse.GetValue(heldOut), CommonOptions.IdxDirectory(parse.GetValue(data)!),
                    parse.GetValue(pairs), parse.GetValue(json));
            if (parse.GetValue(heldOut) is not null || parse.GetValue(pairs) is not null)
                throw new InvalidOptionException("--held-out and --pairs belong to --all");
            if (DatasetFidRequested(parse.GetValue(a)!, parse.GetValue(b)!, parse.GetValue(classifier)!))
                return DatasetFidCommand(parse.GetValue(a)!, parse.GetValue(b)!, config, parse.GetValue(classifier)!, parse.GetValue(json));
            FidSource sourceA = FidSource.Detect(parse.GetValue(a)!), sourceB = FidSource.Detect(parse.GetValue(b)!);
            string classifierPath = parse.GetValue(classifier)!;
            bool needsModel = sourceA.HasImages || sourceB.HasImages;
            if (needsModel) RequireClassifier(classifierPath);
            string? sha = File.Exists(classifierPath) ? ModelWeights.Sha256(classifierPath) : null;
            using Classifier model = needsModel ? ModelFile.LoadClassifier(classifierPath) : new Classifier();

            FidResult result = new FidCalculator(model, config, sha).Compute(sourceA, sourceB);

            PrintWarnings(result.Warnings);
            CliApp.Out.MarkupLineInterpolated($"FID [bold]{result.Fid:F4}[/]  (A: {sourceA.Describe()}, {Count(result.CountA)}; B: {sourceB.Describe()}, {Count(result.CountB)})");
            string origin = sha is not null ? classifierPath : result.ClassifierShort is not null ? "recorded in the statistics" : "no classifier file, no provenance";
            CliApp.Out.MarkupLineInterpolated($"classifier {result.ClassifierShort ?? "unknown"} ({origin}), features {FidCalculator.FeatureName(result.Features)}; {result.Seconds:F2} s");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    fid = result.Fid,
                    n_a = result.CountA,
                    n_b = result.CountB,
                    classifier = result.ClassifierShort,
                    features = FidCalculator.FeatureName(result.Features),
                    seconds = result.Seconds,
                    warnings = result.Warnings,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>A dataset split (DATA:train|test) on either side, or a classifier of another dataset than part 1's MNIST.</summary>
    static bool DatasetFidRequested(string a, string b, string classifierPath)
    {
        if (DatasetFid.IsSplit(a) || DatasetFid.IsSplit(b)) return true;
        if (!File.Exists(classifierPath) || ModelWeights.IsPyTorchFile(classifierPath)) return false;
        return ModelFile.ReadHeader(classifierPath).Settings is not null;   // part 1's shape records none
    }

    /// <summary><c>ldm fid A B</c> under a dataset's classifier (<see cref="DatasetFid"/>).</summary>
    static int DatasetFidCommand(string a, string b, FidConfig config, string classifierPath, bool json)
    {
        RequireClassifier(classifierPath);
        string sha = ModelWeights.Sha256(classifierPath);
        using Classifier model = ModelFile.LoadClassifier(classifierPath);
        FidResult result = DatasetFid.Compute(new FidCalculator(model, config, sha), model, classifierPath, a, b,
            notice: message => CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {message}"));
        PrintWarnings(result.Warnings);
        CliApp.Out.MarkupLineInterpolated($"FID [bold]{result.Fid:F4}[/]  (A: {a}, {Count(result.CountA)}; B: {b}, {Count(result.CountB)})");
        CliApp.Out.MarkupLineInterpolated($"classifier {result.ClassifierShort} ({classifierPath}, {model.Config.Describe()}), features {FidCalculator.FeatureName(result.Features)}");
        if (json)
            CliApp.WriteJson(new { fid = result.Fid, n_a = result.CountA, n_b = result.CountB, classifier = result.ClassifierShort, features = FidCalculator.FeatureName(result.Features), warnings = result.Warnings });
        return CliApp.Ok;
    }

    /// <summary><c>ldm fid A B --all</c>: every metric of A against B from one feature pass of each set.</summary>
    static int All(string pathA, string pathB, FidConfig config, string classifierPath, string? heldOutPath, string dataDirectory, string? pairsPath, bool json)
    {
        if (pairsPath is not null && !pairsPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOptionException($"--pairs {pairsPath}: the file name must end in .png");
        FidSource sourceA = FidSource.Detect(pathA), sourceB = FidSource.Detect(pathB);
        heldOutPath ??= MnistDataset.Locate(dataDirectory, MnistDataset.TestImages)
            ?? throw new UsageException($"no {MnistDataset.TestImages}[.gz] in {dataDirectory} for the memorisation threshold; pass --held-out PATH or --data DIR");
        FidSource sourceHeldOut = FidSource.Detect(heldOutPath);
        RequireClassifier(classifierPath);
        string sha = ModelWeights.Sha256(classifierPath);
        using Classifier model = ModelFile.LoadClassifier(classifierPath);

        SampleQualityResult result = new SampleQuality(model, config, sha).Compute(sourceA, sourceB, sourceHeldOut);

        if (pairsPath is not null)
            AtomicFile.WriteAllBytes(pairsPath, MemorisationFigure.Render(result.Memorisation, result.Generated, result.Reference).Png);
        PrintWarnings(result.Fid.Warnings);
        PrintQuality(result, sourceA, sourceB, pairsPath);
        CliApp.Out.MarkupLineInterpolated($"classifier {result.Fid.ClassifierShort} ({classifierPath}), features {FidCalculator.FeatureName(config.Features)}; {result.Seconds:F1} s");
        if (json) CliApp.WriteJson(QualityJson(result));
        return CliApp.Ok;
    }

    static void PrintQuality(SampleQualityResult result, FidSource a, FidSource b, string? pairsPath)
    {
        ManifoldResult m = result.Manifold;
        MemorisationResult mem = result.Memorisation;
        var table = new Table().Title($"A: {a.Describe()} ({result.Generated.Count}) against B: {b.Describe()} ({result.Reference.Count})");
        table.AddColumn("metric").AddColumn(new TableColumn("value").RightAligned()).AddColumn("what");
        table.AddRow("FID", F(result.Fid.Fid, "F4"), "Fréchet distance of the features' Gaussians");
        table.AddRow("precision", F(m.Precision, "F4"), $"A inside B's manifold (k = {m.Config.PrecisionRecallK})");
        table.AddRow("recall", F(m.Recall, "F4"), $"B inside A's manifold (k = {m.Config.PrecisionRecallK})");
        table.AddRow("density", F(m.Density, "F4"), $"B's balls around each A digit / k (k = {m.Config.DensityCoverageK}; 1 for the same distribution)");
        table.AddRow("coverage", F(m.Coverage, "F4"), $"B's balls holding an A digit (k = {m.Config.DensityCoverageK})");
        table.AddRow("memorised fraction", F(mem.MemorisedFraction, "F4"),
            $"A digits nearer to B than {F(mem.Threshold, "F4")}, the {mem.Percentile:G}% quantile of the held-out set's ({Markup.Escape(result.HeldOutName)})");
        CliApp.Out.Write(table);
        CliApp.Out.MarkupLineInterpolated(
            $"nearest B image: median feature distance {mem.MedianFeatureDistance:F4} (held-out {mem.MedianHeldOutDistance:F4}); {mem.ExactCopies} pixel-exact copies");
        if (pairsPath is not null) CliApp.Out.MarkupLineInterpolated($"Wrote {pairsPath}: the {mem.Closest.Count} closest pairs");
    }

    /// <summary>The --json shape of <c>fid --all</c>.</summary>
    internal static object QualityJson(SampleQualityResult result) => new
    {
        fid = result.Fid.Fid,
        precision = result.Manifold.Precision,
        recall = result.Manifold.Recall,
        density = result.Manifold.Density,
        coverage = result.Manifold.Coverage,
        memorised_fraction = result.Memorisation.MemorisedFraction,
        memorisation_threshold = result.Memorisation.Threshold,
        memorisation_percentile = result.Memorisation.Percentile,
        median_nearest_distance = result.Memorisation.MedianFeatureDistance,
        median_held_out_distance = result.Memorisation.MedianHeldOutDistance,
        exact_copies = result.Memorisation.ExactCopies,
        k_precision_recall = result.Manifold.Config.PrecisionRecallK,
        k_density_coverage = result.Manifold.Config.DensityCoverageK,
        n_a = result.Generated.Count,
        n_b = result.Reference.Count,
        held_out = result.HeldOutName,
        closest = result.Memorisation.Closest.Select(p => new { a = p.Generated, b = p.Training, distance = p.Distance }),
        classifier = result.Fid.ClassifierShort,
        features = FidCalculator.FeatureName(result.Fid.Features),
        seconds_manifold = result.Manifold.Seconds,
        seconds_memorisation = result.Memorisation.Seconds,
        seconds = result.Seconds,
        warnings = result.Fid.Warnings,
    };

    static Command CreateStats()
    {
        var source = new Argument<string>("SOURCE") { Description = "IDX images file (raw or .gz) or folder of 28x28/32x32 PNGs." };
        var output = new Option<string>("--output", "-o") { Description = "Statistics file to write (.npz with mu, sigma; numpy/pytorch-fid layout).", Required = true };
        var classifier = ClassifierOption();
        var features = FeaturesOption();
        var batch = BatchSizeOption();
        var json = CommonOptions.JsonOption();
        var command = new Command("stats", "Compute and save the feature statistics (mu, sigma) of an image set.")
        {
            source, output, classifier, features, batch, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            string dest = parse.GetValue(output)!;
            if (!dest.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) throw new InvalidOptionException($"-o {dest}: the file name must end in .npz");
            var config = Config(parse.GetValue(features)!, parse.GetValue(batch));
            FidSource src = FidSource.Detect(parse.GetValue(source)!);
            if (!src.HasImages) throw new UsageException($"{src.Path} already holds statistics; stats needs an IDX file or an image folder");
            string classifierPath = RequireClassifier(parse.GetValue(classifier)!);
            using Classifier model = ModelFile.LoadClassifier(classifierPath);
            string sha = ModelWeights.Sha256(classifierPath);

            var watch = Stopwatch.StartNew();
            FeatureStatistics stats = new FidCalculator(model, config, sha).Statistics(src);
            stats.Save(dest);
            double seconds = watch.Elapsed.TotalSeconds;

            string[] warnings = stats.SampleSizeWarning(src.Path) is { } few ? [few] : [];
            PrintWarnings(warnings);
            CliApp.Out.MarkupLineInterpolated($"Wrote {dest}: mu ({stats.Dim}), sigma ({stats.Dim}, {stats.Dim}) of {Count(stats.Count)} from {src.Describe()}");
            CliApp.Out.MarkupLineInterpolated($"classifier {FidCalculator.ShortSha(sha)} ({classifierPath}), features {FidCalculator.FeatureName(config.Features)}; {seconds:F2} s");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    output = dest,
                    n = stats.Count,
                    classifier = FidCalculator.ShortSha(sha),
                    features = FidCalculator.FeatureName(config.Features),
                    seconds,
                    warnings,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    static Command CreateBaselines()
    {
        var data = CommonOptions.DataOption();
        var classifier = ClassifierOption();
        var features = FeaturesOption();
        var batch = BatchSizeOption();
        var seed = new Option<long>("--seed") { Description = "Seed of the Random row's noise.", DefaultValueFactory = _ => 0 };
        var json = CommonOptions.JsonOption();
        var command = new Command("baselines", "Part 1's reference table: Validation (test vs train) and Random (pixel-statistics noise vs test), beside the blog's values.")
        {
            data, classifier, features, batch, seed, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            var config = Config(parse.GetValue(features)!, parse.GetValue(batch));
            string classifierPath = RequireClassifier(parse.GetValue(classifier)!);
            using Classifier model = ModelFile.LoadClassifier(classifierPath);
            string sha = ModelWeights.Sha256(classifierPath);
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);

            FidBaselineResult result = FidBaselines.Compute(model, mnist, config.Features, config.BatchSize, parse.GetValue(seed));

            PrintBaselines(result, sha, classifierPath);
            if (parse.GetValue(json)) CliApp.WriteJson(BaselinesJson(result, sha));
            return CliApp.Ok;
        }));
        return command;
    }

    static Option<string> ClassifierOption() => new("--classifier")
    {
        Description = "Classifier weights whose features define the FID (.safetensors or .pt). Default: the shipped models/classifier.safetensors.",
        DefaultValueFactory = _ => Defaults.ClassifierModel,
    };

    static Option<string> FeaturesOption()
    {
        var option = new Option<string>("--features")
        {
            Description = "Feature definition: preact (part 1: conv3 before ReLU, 4x4 average pool) or flatten (layer 9, after ReLU).",
            DefaultValueFactory = _ => "preact",
        };
        option.AcceptOnlyFromAmong("preact", "flatten");
        return option;
    }

    static Option<int> BatchSizeOption() => new("--batch-size")
    {
        Description = "Images per forward pass.",
        DefaultValueFactory = _ => FidConfig.DefaultBatchSize,
    };

    static FidConfig Config(string features, int batchSize)
    {
        if (batchSize <= 0) throw new InvalidOptionException($"--batch-size must be positive (got {batchSize})");
        return new FidConfig(FidCalculator.ParseFeatures(features), batchSize);
    }

    static string RequireClassifier(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"classifier {path} is a directory, not a file; pass --classifier FILE");
        if (!File.Exists(path))
            throw new UsageException($"classifier {path} does not exist; train one with 'ldm classifier train' or pass --classifier FILE");
        return path;
    }

    static void PrintWarnings(IEnumerable<string> warnings)
    {
        foreach (string w in warnings) Console.Error.WriteLine($"ldm: warning: {w}");
    }

    static string Count(long? n) => n is long v ? $"{v} images" : "count unknown";

    /// <summary>The --json shape of a baseline table.</summary>
    internal static object BaselinesJson(FidBaselineResult result, string sha) => new
    {
        rows = result.Rows.Select(r => new
        {
            name = r.Name,
            fid = r.Fid,
            ratio_to_random = r.RatioToRandom,
            blog_fid = r.BlogFid,
            blog_ratio_to_random = r.BlogRatioToRandom,
        }),
        classifier = FidCalculator.ShortSha(sha),
        features = FidCalculator.FeatureName(result.Features),
        seed = result.Seed,
        n_train = result.TrainCount,
        n_test = result.TestCount,
        n_random = result.RandomCount,
        seconds = result.Seconds,
    };

    internal static void PrintBaselines(FidBaselineResult result, string sha, string classifierPath)
    {
        var table = new Table().Title($"MNIST-FID baselines (features {FidCalculator.FeatureName(result.Features)})");
        table.AddColumn("row").AddColumn(new TableColumn("FID").RightAligned()).AddColumn(new TableColumn("ratio to Random").RightAligned())
            .AddColumn(new TableColumn("blog FID").RightAligned()).AddColumn(new TableColumn("blog ratio").RightAligned());
        foreach (FidBaselineRow row in result.Rows)
            table.AddRow(row.Name, F(row.Fid, "F4"), F(row.RatioToRandom, "F4"), F(row.BlogFid, "F2"), F(row.BlogRatioToRandom, "F4"));
        CliApp.Out.Write(table);
        CliApp.Out.MarkupLineInterpolated(
            $"Validation: {result.TestCount} test vs {result.TrainCount} training images. Random: {result.RandomCount} noise images (seed {result.Seed}) vs the test set.");
        CliApp.Out.MarkupLineInterpolated($"classifier {FidCalculator.ShortSha(sha)} ({classifierPath}); the blog's values use its own weights; {result.Seconds:F2} s");
    }

    static string F(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
