using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

public enum Part2Kind { Autoencoder, Vae }

/// <summary>What <c>ldm vae</c> and <c>ldm autoencoder</c> share: evaluate, sample, reconstruct, export, and the end-of-training summary.</summary>
public static class Part2Commands
{
    public static IEnumerable<Command> CreateModelCommands(Part2Kind kind)
    {
        yield break;
    }

    public static void PrintTrained(IReadOnlyList<EpochLog> history, double seconds, string run, bool json, long parameters)
    {
        EpochLog last = history[^1];
        string metrics = string.Join(", ", last.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:F3}")));
        CliApp.Out.MarkupLineInterpolated($"Trained {last.Epoch} epochs in {seconds:F0} s: train loss {last.TrainLoss:F3}, validation loss [bold]{last.ValLoss:F3}[/] ({metrics}). {parameters} parameters.");
        CliApp.Out.MarkupLineInterpolated($"Model: {Path.Combine(run, RunDirectory.ModelFileName)}  History: {Path.Combine(run, TrainingHistory.CsvName)}");
        if (json)
            CliApp.WriteJson(new { model = Path.Combine(run, RunDirectory.ModelFileName), parameters, training_seconds = seconds, history });
    }
}
