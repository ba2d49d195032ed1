namespace LatentDiffusion.Training;

/// <summary>The loss became NaN or infinite; training stopped and the last good checkpoint was kept.</summary>
public sealed class TrainingDivergedException(int epoch, double loss, string? checkpoint, string quantity = "mean train loss")
    : Exception($"training diverged: the {quantity.Replace('_', ' ')} of epoch {epoch} is {loss}; " +
                (checkpoint is null ? "no checkpoint was written yet" : $"the last good checkpoint is kept at {checkpoint}") +
                "; try a smaller --lr")
{
    public int Epoch { get; } = epoch;
}
