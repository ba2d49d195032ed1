using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// The mean activation map of every channel of one layer, per class: what the part-1 post shows for the pooling
/// layers 2, 5 and 8 (8×16×16, 16×8×8 and 32×2×2 per image).
/// </summary>
/// <param name="Layer">Index into <see cref="Classifier.Layers"/> whose output was averaged.</param>
/// <param name="Values">(Classes, Channels, Height, Width) means, row-major; NaN for a class with no images.</param>
/// <param name="CountPerClass">Images averaged for each class.</param>
public sealed record ActivationMaps(int Layer, int Classes, int Channels, int Height, int Width, float[] Values, long[] CountPerClass)
{
    /// <summary>The (Height, Width) mean map of <paramref name="channel"/> for <paramref name="label"/>, row-major.</summary>
    public ReadOnlySpan<float> Map(int label, int channel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(label, Classes);
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(channel, Channels);
        int size = Height * Width;
        return Values.AsSpan((label * Channels + channel) * size, size);
    }

    /// <summary>
    /// Channels whose mean map has one value for every class and position (NaN classes ignored) — after a ReLU, a
    /// channel that never fires. The figures draw them black, since they have no range to scale.
    /// </summary>
    public IReadOnlyList<int> ConstantChannels()
    {
        var constant = new List<int>();
        for (int c = 0; c < Channels; c++)
        {
            float? first = null;
            bool same = true;
            for (int label = 0; label < Classes && same; label++)
                foreach (float v in Map(label, c))
                {
                    if (float.IsNaN(v)) break;                   // a class without images: all NaN
                    first ??= v;
                    if (v != first) { same = false; break; }
                }
            if (same && first is not null) constant.Add(c);
        }
        return constant;
    }

    /// <summary>
    /// Runs <see cref="Classifier.ForwardThrough"/> up to <paramref name="layer"/> over <paramref name="inputs"/>
    /// (N, 1, 32, 32) in eval mode under no_grad, batch by batch, and averages the outputs per label of
    /// <paramref name="targets"/> (N,) int64. The model's train/eval mode is restored afterwards.
    /// </summary>
    public static ActivationMaps Compute(Classifier model, Tensor inputs, Tensor targets, int layer, int batchSize = 1000, int classes = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        long n = inputs.shape[0];
        if (targets.shape[0] != n) throw new ArgumentException($"{n} inputs but {targets.shape[0]} targets");
        if (n == 0) throw new ArgumentException("no inputs to average", nameof(inputs));
        using var eval = EvalMode.Of(model);
        using var noGrad = no_grad();
        using var totals = NewDisposeScope();
        Tensor? sums = null;                                            // (classes, C, H, W) float64
        Tensor counts = zeros(classes, ScalarType.Int64);
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            Tensor x = inputs.narrow(0, start, len);
            Tensor y = targets.narrow(0, start, len);
            Tensor h = model.ForwardThrough(x, layer);                  // (B, C, H, W)
            if (h.dim() != 4) throw new ArgumentException($"layer {layer} outputs shape [{string.Join(", ", h.shape)}], not a (B, C, H, W) map", nameof(layer));
            if (sums is null)
            {
                sums = zeros([classes, h.shape[1], h.shape[2], h.shape[3]], ScalarType.Float64);
                sums.MoveToOuterDisposeScope();
            }
            sums.index_add_(0, y, h.to_type(ScalarType.Float64), 1);     // per-label sums in float64: 10k images lose nothing
            counts.index_add_(0, y, ones_like(y), 1);
        }
        Tensor divisor = counts.to_type(ScalarType.Float64).view(classes, 1, 1, 1);
        Tensor means = (sums! / divisor).to_type(ScalarType.Float32).contiguous();  // 0/0 = NaN for an absent class
        return new ActivationMaps(layer, classes, (int)sums!.shape[1], (int)sums.shape[2], (int)sums.shape[3],
            means.data<float>().ToArray(), counts.data<long>().ToArray());
    }
}
