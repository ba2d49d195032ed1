using System.Diagnostics;
using LatentDiffusion.Training;

namespace LatentDiffusion.Bench;

/// <summary>
/// Times each epoch of the shared <see cref="Trainer{TModel}"/> from its start to its last batch (<see cref="Seconds"/>:
/// the loop alone) and samples RSS there; and, for an epoch that ends in a checkpoint, to that checkpoint written
/// (<see cref="WholeSeconds"/>: validation, history and checkpoint included).
/// </summary>
sealed class EpochClock : ITrainingObserver
{
    readonly Stopwatch watch = new();
    int batches;

    public List<double> Seconds { get; } = [];
    public List<double> RssMiB { get; } = [];
    public List<double> WholeSeconds { get; } = [];

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

    public void CheckpointWritten(int epoch, string path) => WholeSeconds.Add(watch.Elapsed.TotalSeconds);
}
