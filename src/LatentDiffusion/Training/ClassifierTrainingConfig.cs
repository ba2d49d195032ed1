namespace LatentDiffusion.Training;

/// <summary>
/// Settings of a classifier training run. Every default is the blog's (part 1): Adam with learning rate 1e-3,
/// batches of 256, 100 epochs, the losses logged every 10 epochs. Override with <c>with</c>.
/// </summary>
public sealed record ClassifierTrainingConfig
{
    /// <summary>Passes over the training set. Blog: 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Images per optimizer step. Blog: 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam's learning rate. Blog: 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Seeds the weight initialisation, the per-epoch permutations and Dropout. Default 0.</summary>
    public long Seed { get; init; } = 0;

    /// <summary>Every this many epochs (and at the last) the train and validation losses are logged. Blog: 10.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Every this many epochs (and at the last) a checkpoint is written. Default 10.</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>Images per forward pass when evaluating (no effect on results). Default 2000.</summary>
    public int EvalBatchSize { get; init; } = 2000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a setting that cannot work.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LogEvery);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CheckpointEvery);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(EvalBatchSize);
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive finite number");
    }
}
