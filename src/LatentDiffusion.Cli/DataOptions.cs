using System.CommandLine;
using LatentDiffusion.Data;

namespace LatentDiffusion.Cli;

/// <summary>
/// How the commands that take any dataset (the three <c>train</c> commands, <c>classifier evaluate</c>) bring it to the
/// model: <c>--resolution</c>, <c>--channels</c>, <c>--skip-bad</c>, <c>--split-seed</c>. <c>--data</c> itself is
/// <see cref="CommonOptions.DataOption"/>. Defaults are <see cref="DatasetOptions"/>'s.
/// </summary>
public sealed class DataOptions
{
    static readonly DatasetOptions Defaults = new();

    public Option<int> Resolution { get; } = new("--resolution")
    {
        Description = "The model's image side: 32 (the series) or 64; images are centre-cropped to a square and area-resized (docs/datasets.md).",
        DefaultValueFactory = _ => Defaults.Resolution,
    };
    public Option<int?> Channels { get; } = new("--channels") { Description = "1 (gray) or 3 (RGB); default: decided by the data (any colour image makes it RGB)." };
    public Option<bool> SkipBad { get; } = new("--skip-bad") { Description = "Skip and count images that cannot be decoded instead of failing on the first." };
    public Option<int> SplitSeed { get; } = new("--split-seed")
    {
        Description = "For a folder without train/ and test/: seed of the held-out draw (10% of each class), recorded with the model.",
        DefaultValueFactory = _ => Defaults.SplitSeed,
    };

    /// <param name="resolution">False for commands whose model fixes the resolution (it is read from the model).</param>
    public DataOptions(bool resolution = true) => HasResolution = resolution;

    bool HasResolution { get; }

    public void AddTo(Command command)
    {
        if (HasResolution) command.Options.Add(Resolution);
        foreach (Option option in new Option[] { Channels, SkipBad, SplitSeed }) command.Options.Add(option);
    }

    /// <summary>The options as <see cref="DatasetOptions"/>; a value that cannot work is a usage error naming the option.</summary>
    public DatasetOptions Read(ParseResult parse, int? resolution = null)
    {
        var options = Defaults with
        {
            Resolution = resolution ?? (HasResolution ? parse.GetValue(Resolution) : Defaults.Resolution),
            Channels = parse.GetValue(Channels),
            SkipBad = parse.GetValue(SkipBad),
            SplitSeed = parse.GetValue(SplitSeed),
        };
        if (options.Problem() is { } problem)
        {
            string option = problem.StartsWith("channels", StringComparison.Ordinal) ? "--channels" : problem.StartsWith("resolution", StringComparison.Ordinal) ? "--resolution" : "--split-seed";
            throw new InvalidOptionException($"{option}: {problem}");
        }
        return options;
    }
}
