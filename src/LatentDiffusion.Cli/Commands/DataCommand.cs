using System.CommandLine;
using LatentDiffusion.Data;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm data colored-mnist</c>: datasets made from others.</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Make datasets: colored-mnist, the RGB test bed.");
        command.Subcommands.Add(CreateColoredMnist());
        return command;
    }

    static Command CreateColoredMnist()
    {
        var data = CommonOptions.DataOption();
        var outDir = new Option<string>("--out") { Description = "The new folder (absent or empty): train/ and test/ with class folders 0..9 of 32x32 RGB PNGs.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the colours (train: seed, test: seed + 1).", DefaultValueFactory = _ => 0 };
        var limit = new Option<int?>("--limit") { Description = "At most this many images of each split (default: all)." };
        var json = CommonOptions.JsonOption();
        var command = new Command("colored-mnist", "Write an IDX set (default mnist) as an RGB image folder: each digit in a random hue on a dark background of the opposite hue (docs/datasets.md).")
            { data, outDir, seed, limit, json };
        command.SetAction(CliApp.Action(parse =>
        {
            if (parse.GetValue(limit) is <= 0) throw new InvalidOptionException($"--limit must be positive (got {parse.GetValue(limit)})");
            string dest = parse.GetValue(outDir)!;
            if (IO.AtomicFile.WriteProblem(dest, folder: true) is { } problem) throw new UsageException($"--out {problem}");
            MnistData source = CommonOptions.LoadData(parse.GetValue(data)!);
            var (train, test) = ColoredMnist.Write(source, dest, parse.GetValue(seed), parse.GetValue(limit));
            CliApp.Out.MarkupLineInterpolated($"Wrote {dest}: {train} training and {test} test images (32x32 RGB, classes 0-9).");
            if (parse.GetValue(json)) CliApp.WriteJson(new { @out = dest, train, test, seed = parse.GetValue(seed) });
            return CliApp.Ok;
        }));
        return command;
    }
}
