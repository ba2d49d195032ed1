namespace LatentDiffusion.Training;

/// <summary>
/// A stop was requested (the trainer's cancellation token) and training stopped between two batches. When batches
/// had been trained since the last checkpoint, a checkpoint was written first (<see cref="Saved"/>), mid-epoch if need
/// be, so resuming continues exactly where the run stopped.
/// </summary>
public sealed class TrainingStoppedException(int epoch, int batch, int batches, string? checkpoint, bool saved)
    : OperationCanceledException(Describe(epoch, batch, batches, checkpoint, saved))
{
    /// <summary>The epoch in progress when the run stopped (1-based).</summary>
    public int Epoch { get; } = epoch;

    /// <summary>Batches of <see cref="Epoch"/> already trained.</summary>
    public int Batch { get; } = batch;

    /// <summary>The checkpoint to resume from, or null when there is none (stopped before the first batch).</summary>
    public string? Checkpoint { get; } = checkpoint;

    /// <summary>Whether the checkpoint was written by this stop (false: it already held every trained batch).</summary>
    public bool Saved { get; } = saved;

    static string Describe(int epoch, int batch, int batches, string? checkpoint, bool saved)
    {
        string where = batch == 0 ? $"at the start of epoch {epoch}" : $"in epoch {epoch} after {batch} of {batches} batches";
        return checkpoint is null ? $"stopped {where}, before any batch was trained (nothing to save)"
            : saved ? $"stopped {where}; checkpoint written to {checkpoint}"
            : $"stopped {where}; {checkpoint} already holds everything trained";
    }
}
