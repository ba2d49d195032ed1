namespace LatentDiffusion.Training;

/// <summary>How the learning rate moves over a run.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<LearningRateSchedule>))]
public enum LearningRateSchedule
{
    /// <summary>The posts: Adam at a fixed rate.</summary>
    Constant,
    /// <summary>Half a cosine from the rate down to <see cref="TrainingConfig.MinLearningRateFraction"/> of it over all steps (Loshchilov and Hutter 2017, without restarts), after an optional linear warm-up.</summary>
    Cosine,
}

/// <summary>
/// Settings of a training run, shared by every model. The defaults are part 1's (Adam 1e-3, batches of 256, 100 epochs,
/// losses logged every 10 epochs, constant rate); <see cref="Part2"/> gives part 2's. Override with <c>with</c>.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>Part 2's recipe for the autoencoder and the VAE: Adam 1e-3, batches of 128, 400 epochs, validation every 10.</summary>
    public static TrainingConfig Part2 { get; } = new() { Epochs = 400, BatchSize = 128 };

    /// <summary>Passes over the training set. Part 1: 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Examples per optimizer step. Part 1: 256; part 2: 128.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam's (peak) learning rate. Posts: 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>The rate's course over the run. Posts: constant.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>With <see cref="LearningRateSchedule.Cosine"/>: the final rate as a fraction of the peak. Default 0.01.</summary>
    public double MinLearningRateFraction { get; init; } = 0.01;

    /// <summary>With <see cref="LearningRateSchedule.Cosine"/>: optimizer steps of linear warm-up from 0. Default 0.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>
    /// Decay of an exponential moving average of the weights, updated after every step, that is validated and saved
    /// instead of the raw weights (Polyak averaging, as DDPM implementations do); 0 (the posts) turns it off. A model
    /// with BatchNorm gets statistics of its own for the average before it is validated or saved (<see cref="AveragedBatchNorm"/>).
    /// </summary>
    public double EmaDecay { get; init; }

    /// <summary>Seeds the weight initialisation, the per-epoch permutations and every random draw of the loss. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Every this many epochs (and at the last) the train and validation losses are logged. Posts: 10.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Every this many epochs (and at the last) a checkpoint is written. Default 10.</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>Examples per forward pass when validating (no effect on results). Default 2000.</summary>
    public int EvalBatchSize { get; init; } = 2000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a setting that cannot work.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LogEvery);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CheckpointEvery);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(EvalBatchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(WarmupSteps);
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive finite number");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, "must be in [0, 1)");
        if (!(MinLearningRateFraction >= 0 && MinLearningRateFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinLearningRateFraction), MinLearningRateFraction, "must be in [0, 1]");
    }

    /// <summary>
    /// Whether a checkpoint made with <paramref name="saved"/> continues into this run: everything that shapes the
    /// trajectory must agree; logging, checkpointing and evaluation batching may differ, and a constant-rate run may
    /// grow its epochs (a cosine run's epochs set its schedule, so they must agree too).
    /// </summary>
    public bool SameRunAs(TrainingConfig saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var comparable = saved with { LogEvery = LogEvery, CheckpointEvery = CheckpointEvery, EvalBatchSize = EvalBatchSize, Epochs = Epochs };
        if (comparable != this) return false;
        return Schedule == LearningRateSchedule.Constant ? saved.Epochs <= Epochs : saved.Epochs == Epochs;
    }

    /// <summary>The learning rate at optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public double LearningRateAt(long step, long totalSteps)
    {
        if (Schedule == LearningRateSchedule.Constant) return LearningRate;
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        double progress = Math.Clamp((double)(step - WarmupSteps) / Math.Max(1, totalSteps - WarmupSteps), 0, 1);
        return LearningRate * (MinLearningRateFraction + (1 - MinLearningRateFraction) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
