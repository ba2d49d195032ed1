using System.Globalization;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli;

/// <summary>
/// A progress bar per epoch on an interactive terminal; one line per epoch otherwise (CI logs, redirected
/// output). Logged epochs are printed as lines either way. Everything goes to stderr.
/// </summary>
public sealed class SpectreTrainingObserver(ProgressContext? context) : ITrainingObserver
{
    ProgressTask? task;
    System.Diagnostics.Stopwatch clock = new();
    int epochs, batches;

    public void EpochStarted(int epoch, int epochs, int batches)
    {
        task?.StopTask();
        task = context?.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
        (this.epochs, this.batches) = (epochs, batches);
        clock.Restart();
    }

    public void BatchFinished(int epoch, int batch)
    {
        if (SlowBatchMilliseconds > 0)
        {
            // Said before sleeping, so that a test signals the child while a batch is surely in progress.
            Console.Error.WriteLine($"test hook: batch {batch} of epoch {epoch} done, sleeping {SlowBatchMilliseconds} ms");
            Thread.Sleep(SlowBatchMilliseconds);
        }
        if (task is not null) task.Value = batch;
        else if (batch == batches)
            CliApp.Err.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[grey]epoch {epoch}/{epochs}: {batches} batches in {clock.Elapsed.TotalSeconds:F1} s[/]"));
    }

    public void EpochLogged(EpochLog log)
    {
        string metrics = string.Concat(log.Metrics.Select(m => m.Key == "val_accuracy"
            ? string.Create(CultureInfo.InvariantCulture, $"  val acc {m.Value:P2}")
            : string.Create(CultureInfo.InvariantCulture, $"  {m.Key.Replace('_', ' ')} {m.Value:F4}")));
        CliApp.Err.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {log.Epoch,3}  train loss {log.TrainLoss:F4}  val loss {log.ValLoss:F4}{metrics}  [grey]{log.Seconds:F0} s[/]"));
    }

    public void CheckpointWritten(int epoch, string path)
    {
        if (context is null) CliApp.Err.MarkupLineInterpolated($"[grey]epoch {epoch}: checkpoint {path}[/]");
    }

    /// <summary>Test hook: LDM_TEST_SLOW_BATCH_MS makes every batch that long, so a test can signal a child mid-epoch.</summary>
    static readonly int SlowBatchMilliseconds =
        int.TryParse(Environment.GetEnvironmentVariable("LDM_TEST_SLOW_BATCH_MS"), out int ms) && ms > 0 ? ms : 0;

    /// <summary>
    /// Runs <paramref name="body"/> with a live progress display when stderr is a terminal, as a graceful section of
    /// <see cref="CliApp.Stop"/>: the body passes <c>CliApp.Stop.Token</c> to the trainer, which stops between batches.
    /// </summary>
    public static T Run<T>(Func<ITrainingObserver, T> body)
    {
        using IDisposable graceful = CliApp.Stop.Graceful();
        if (!CliApp.Err.Profile.Capabilities.Interactive || Console.IsErrorRedirected)
            return body(new SpectreTrainingObserver(null));
        T result = default!;
        CliApp.Err.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx => result = body(new SpectreTrainingObserver(ctx)));
        return result;
    }
}
