using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// Mean and covariance of feature vectors that arrive batch by batch, in float64, holding only μ (D,) and the
/// centred cross-product sum M₂ = Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ (D, D): memory does not grow with N, so a million images fit.
/// Each batch is centred on its own mean and merged with the pairwise update of Chan, Golub and LeVeque (1979),
/// <c>M₂ ← M₂ + M₂,b + δδᵀ · n·n_b / (n + n_b)</c> with δ = μ_b − μ, which does not lose precision to the
/// cancellation of the naive Σx² − Nμ² however large N grows or however far the features sit from zero.
/// </summary>
public sealed class RunningStatistics : IDisposable
{
    Tensor? mean;  // (D,) float64
    Tensor? m2;    // (D, D) float64
    long count;
    bool disposed;

    /// <summary>Vectors seen so far.</summary>
    public long Count => count;

    /// <summary>Feature dimension, or 0 before the first batch.</summary>
    public long Dim => mean?.shape[0] ?? 0;

    /// <summary>Adds a batch of feature vectors (B, D), any floating dtype; B may be 0.</summary>
    public void Add(Tensor batch)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (batch.dim() != 2) throw new ArgumentException($"expected a batch (B, D), got [{string.Join(", ", batch.shape)}]", nameof(batch));
        long b = batch.shape[0];
        if (b == 0) return;
        if (mean is not null && batch.shape[1] != mean.shape[0])
            throw new ArgumentException($"batch has {batch.shape[1]}-d vectors, earlier batches {mean.shape[0]}-d", nameof(batch));

        using var scope = NewDisposeScope();
        Tensor x = batch.to_type(ScalarType.Float64);               // (B, D)
        Tensor batchMean = x.mean([0]);                              // (D,)
        Tensor centered = x - batchMean;                             // (B, D)
        Tensor batchM2 = centered.t().matmul(centered);              // (D, D)
        if (mean is null || m2 is null)
        {
            // The accumulators outlive this scope and any scope of the caller: this object disposes them.
            mean = batchMean.DetachFromDisposeScope();
            m2 = batchM2.DetachFromDisposeScope();
            count = b;
            return;
        }
        long total = count + b;
        Tensor delta = batchMean - mean;                             // (D,)
        m2.add_(batchM2).add_(outer(delta, delta), alpha: (double)count * b / total);
        mean.add_(delta, alpha: (double)b / total);
        count = total;
    }

    /// <summary>
    /// μ and the unbiased Σ = M₂ / (N − 1). Needs N ≥ 2; <paramref name="classifierSha256"/> and
    /// <paramref name="features"/> go into the provenance.
    /// </summary>
    public FeatureStatistics ToStatistics(string? classifierSha256 = null, string? features = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (count < 2 || mean is null || m2 is null)
            throw new InvalidOperationException($"{count} feature vector(s): a covariance needs at least 2");
        using var scope = NewDisposeScope();
        Tensor sigma = (m2 + m2.t()).div_(2.0 * (count - 1));       // (D, D), symmetric to the last bit like numpy.cov
        return new FeatureStatistics(
            mean.data<double>().ToArray(),
            sigma.contiguous().data<double>().ToArray(),
            new StatisticsProvenance(count, classifierSha256, features));
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        mean?.Dispose();
        m2?.Dispose();
    }
}
