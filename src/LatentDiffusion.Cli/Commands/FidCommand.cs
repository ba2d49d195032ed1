using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
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
        var json = CommonOptions.JsonOption();
        var command = new Command("fid", "MNIST-FID between two image sets or statistics files (the series' quality metric).")
        {
            a, b, classifier, features, batch, json,
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
