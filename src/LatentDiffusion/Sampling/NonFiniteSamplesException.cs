namespace LatentDiffusion.Sampling;

/// <summary>
/// A generation whose latents or images hold NaN or ∞. The option bounds (<see cref="SamplingOptions.Problem"/>) keep a
/// healthy model away from this; a damaged model, or options pushed where its predictions overflow, can still get here.
/// Thrown instead of returning the samples, so nothing non-finite is written, drawn or read.
/// </summary>
public sealed class NonFiniteSamplesException(string message) : Exception(message)
{
    /// <summary>The message for a generation of <paramref name="what"/> that went non-finite at <paramref name="where"/>.</summary>
    public static NonFiniteSamplesException For(string what, string where) =>
        new($"the sampler produced non-finite values (NaN or ∞) {where} with {what}; nothing was written — " +
            "lower the guidance or η, or check the model file");
}
