using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// The validation pass of a loss with two per-image terms (a VAE's reconstruction and KL, a decoder's squared error
/// and perceptual distance): each term summed in float64 over batches of the held-out set, then divided by its size.
/// </summary>
public static class PerImageMeans
{
    /// <param name="count">Images in the set.</param>
    /// <param name="terms">(start, count) → the two terms of those images, each (count,).</param>
    public static (double First, double Second) Of(long count, int batchSize, Func<long, long, (Tensor First, Tensor Second)> terms)
    {
        double first = 0, second = 0;
        for (long start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            (Tensor a, Tensor b) = terms(start, Math.Min(batchSize, count - start));
            first += a.to_type(ScalarType.Float64).sum().item<double>();
            second += b.to_type(ScalarType.Float64).sum().item<double>();
        }
        return (first / count, second / count);
    }
}
