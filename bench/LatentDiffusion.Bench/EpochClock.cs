using System.Diagnostics;
using LatentDiffusion.Training;

namespace LatentDiffusion.Bench;

/// <summary>
/// Times each epoch of the shared <see cref="Trainer{TModel}"/> from its start to its last batch (the loop alone: no
/// validation or checkpoint, which the benchmark schedules only after the last epoch) and samples RSS there.
/// </summary>
sealed class EpochClock : ITrainingObserver
{
    readonly Stopwatch watch = new();
    int batches;

    public List<double> Seconds { get; } = [];
    public List<double> RssMiB { get; } = [];

    public void EpochStarted(int epoch, int epochs, int batches)
    {
        this.batches = batches;
        watch.Restart();
    }

    public void BatchFinished(int epoch, int batch)
    {
        if (batch != batches) return;
        Seconds.Add(watch.Elapsed.TotalSeconds);
        RssMiB.Add(ProcessMemory.RssMiB() ?? double.NaN);
    }
}
