using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Reports;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli;

/// <summary>The options and option parsers that several commands share: data, --json, counts, seeds, outputs, model files, guidance, digits.</summary>
internal static class CommonOptions
{
    /// <param name="required">True for a command that has no default data (<c>pipeline</c>).</param>
    public static Option<string> DataOption(bool required = false)
    {
        var option = new Option<string>("--data", "--dataset")
        {
            Description = "The data: mnist (the shipped data/mnist), fashion-mnist, a directory with the four MNIST-layout IDX files (raw or .gz), " +
                          "or, for the train commands, classifier evaluate and pipeline, a labelled image folder (DIR/<class>/*.png, or DIR/train/… and DIR/test/…; docs/datasets.md)." +
                          (required ? "" : " Default: mnist."),
            Required = required,
        };
        if (!required) option.DefaultValueFactory = _ => Datasets.Default;
        return option;
    }

    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object as the last line of stdout." };

    /// <summary>
    /// Loads the IDX set <paramref name="spec"/> names (mnist, fashion-mnist, or a directory of the four files), downloading
    /// missing files; notices go to stderr. For the commands that read MNIST-layout files only: an image folder is one
    /// line saying which commands take it.
    /// </summary>
    public static MnistData LoadData(string spec)
    {
        if (File.Exists(spec)) throw new UsageException($"--data {spec} is a file; give the directory that holds the four MNIST files");
        if (Directory.Exists(spec) && !Datasets.IsIdx(spec) && Directory.EnumerateFileSystemEntries(spec).Any())
            throw new UsageException($"--data {spec} is not a directory of IDX files; this command reads mnist, fashion-mnist or the four MNIST-layout files " +
                                     "(image folders: classifier train|evaluate, vae train, diffusion train)");
        (string directory, DownloadOptions download) = IdxDatasetKind.Resolve(spec);
        return MnistDataset.LoadOrDownload(directory, download, notice: Notice);
    }

    /// <summary>The directory of the IDX set <paramref name="spec"/> names (mnist, fashion-mnist, or the directory itself).</summary>
    public static string IdxDirectory(string spec) => IdxDatasetKind.Resolve(spec).Directory;

    /// <summary>Loads any dataset <paramref name="spec"/> names (<see cref="Datasets.Load"/>) as bytes; notices go to stderr.</summary>
    public static ImageDataset LoadDataset(string spec, DatasetOptions options)
    {
        if (File.Exists(spec)) throw new UsageException($"--data {spec} is a file; give mnist, fashion-mnist, a directory of IDX files or an image folder");
        return Datasets.Load(spec, options, Notice);
    }

    static void Notice(string message) => CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {message}");

    public static Option<int> CountOption(int defaultCount) => new("-n", "--count") { Description = "Number of digits.", DefaultValueFactory = _ => defaultCount };

    public static Option<long> SeedOption() => new("--seed") { Description = "Seed of the random draws.", DefaultValueFactory = _ => 0 };

    /// <summary>--seeds K: <paramref name="rows"/> sampled at seeds SEED … SEED+K-1, shown as the mean with the range (<see cref="SeedMeans"/>).</summary>
    public static Option<int> SeedsOption(string rows) => new("--seeds")
    {
        Description = $"Sampling seeds K for {rows}: each is sampled at seeds SEED, SEED+1, …, SEED+K-1 and shows the mean, with the lowest and highest value. " +
                      $"Multiplies their time. At most {SeedMeans.MaxSeeds}; default 1.",
        DefaultValueFactory = _ => 1,
    };

    /// <summary><paramref name="seeds"/> when it is a number of seeds (1 … <see cref="SeedMeans.MaxSeeds"/>), else a usage error naming --seeds.</summary>
    public static int RequireSeeds(int seeds)
    {
        if (SeedMeans.Problem(seeds) is { } problem) throw new InvalidOptionException(problem);
        return seeds;
    }

    public static Option<string> OutOption(string what) => new("--out")
    {
        Description = $"Where to write the {what}: a new folder of PNGs, as `ldm fid` reads (MNIST's 32-px digits cropped to its 28x28; any other data's images whole), FILE.png (a grid) or FILE.npz (the float array).",
        Required = true,
    };

    /// <summary><paramref name="n"/> when it is positive and fits in this machine's memory (<see cref="CountLimit"/>), else a usage error naming <paramref name="option"/>.</summary>
    public static int RequireCount(int n, string option = "-n")
    {
        if (CountLimit.Problem(n, option) is { } problem) throw new InvalidOptionException(problem);
        return n;
    }

    /// <summary>
    /// Checks, before anything is sampled, that <paramref name="total"/> digits can go to the --out path
    /// <paramref name="dest"/>: a usage error for a count or grid that cannot work, a failure for a path that cannot be
    /// written (a read-only folder, a file where a folder is wanted, a non-empty folder).
    /// </summary>
    public static void RequireOutput(string dest, long total, string countOption = "-n", int? gridColumns = null)
    {
        if (ImageOutput.CountProblem(dest, total, countOption, gridColumns: gridColumns) is { } problem) throw new InvalidOptionException(problem);
        if (ImageOutput.WriteProblem(dest) is { } unwritable) throw new UsageException(unwritable);
    }

    /// <summary>--guidance-interval LOW,HIGH: the noise levels (t/T, or α) where guidance applies.</summary>
    public static Option<string?> GuidanceIntervalOption() => new("--guidance-interval")
    {
        Description = $"Apply the guidance only at noise levels LOW..HIGH (t/T, or α; 0 = data, 1 = noise) and the plain conditional model elsewhere. Default: {DefaultInterval}.",
        DefaultValueFactory = _ => DefaultInterval,
    };

    /// <summary>The default guidance interval as the option writes it: <see cref="Recipes.GuidanceInterval"/>.</summary>
    static string DefaultInterval => string.Create(CultureInfo.InvariantCulture, $"{Recipes.GuidanceInterval.Low},{Recipes.GuidanceInterval.High}");

    public static (double, double)? ParseInterval(string? text)
    {
        if (text is null || text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return null;
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo) &&
            double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi) && lo >= 0 && lo <= hi && hi <= 1)
            return (lo, hi);
        throw new InvalidOptionException($"--guidance-interval must be 'all' or LOW,HIGH with 0 ≤ LOW ≤ HIGH ≤ 1 (got '{text}')");
    }

    /// <summary>"0".."9" → that digit; "all" → 0..9; anything else is a usage error.</summary>
    public static int[] ParseDigits(string text)
    {
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return Enumerable.Range(0, 10).ToArray();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int d) && d is >= 0 and <= 9) return [d];
        throw new InvalidOptionException($"--digit must be 0-9 or 'all' (got '{text}')");
    }

    public static Option<string> DiffusionModelOption() => new("--model")
    {
        Description = "Diffusion model weights (.safetensors). Default: the shipped models/diffusion.safetensors.",
        DefaultValueFactory = _ => Defaults.Model(ShippedFiles.DiffusionFile),
    };

    public static Option<string> VaeOption(string file = "vae.safetensors") => new("--vae")
    {
        Description = $"The VAE whose latent space the model works in. Default: the shipped models/{file}.",
        DefaultValueFactory = _ => Defaults.Model(file),
    };
}
