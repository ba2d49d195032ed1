using LatentDiffusion.Experiments;
using Spectre.Console;

namespace LatentDiffusion.Cli;

/// <summary>
/// Long steps on the console: a progress bar on an interactive terminal (a line every 10 % otherwise), each run as a
/// graceful section of <see cref="CliApp.Stop"/>: after SIGINT or SIGTERM the next progress report (one per sampling
/// step) throws <see cref="OperationCanceledException"/>, before anything is written. Results in grey, notes in yellow.
/// </summary>
public sealed class ConsoleProgress : IExperimentObserver
{
    public static ConsoleProgress Instance { get; } = new();

    public T Step<T>(string description, Func<Action<long, long>, T> body) => Run(description, body);

    public void Result(string line) => CliApp.Err.MarkupLineInterpolated($"[grey]{line}[/]");

    public void Note(string note) => CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {note}");

    /// <summary>Runs <paramref name="body"/> with the progress display described above.</summary>
    public static T Run<T>(string description, Func<Action<long, long>, T> body)
    {
        using IDisposable graceful = CliApp.Stop.Graceful();
        CancellationToken stop = CliApp.Stop.Token;
        if (!CliApp.Err.Profile.Capabilities.Interactive || Console.IsErrorRedirected)
        {
            int lastDecile = -1;
            return body((done, total) =>
            {
                stop.ThrowIfCancellationRequested();
                int decile = (int)(10 * done / Math.Max(1, total));
                if (decile == lastDecile) return;
                lastDecile = decile;
                CliApp.Err.MarkupLineInterpolated($"[grey]{description}: {10 * decile} %[/]");
            });
        }
        T result = default!;
        CliApp.Err.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask(description, maxValue: 1);
                result = body((done, total) =>
                {
                    stop.ThrowIfCancellationRequested();
                    task.Value = (double)done / Math.Max(1, total);
                });
            });
        return result;
    }
}
