using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Models;

/// <summary>
/// <c>leaky_relu(batch_norm(x))</c> in training mode for a channels-last float32 CPU tensor, as one autograd node
/// whose forward and backward are <see cref="BatchNormLeakyReluKernel"/>'s passes (mean, variance, normalise;
/// gradient sums, then the input gradient). Same values as the two PyTorch modules to float rounding
/// (closer to float64 than libtorch's channels-last kernel), the same running statistics and
/// <c>num_batches_tracked</c> update.
/// </summary>
/// <remarks>
/// Why: libtorch's channels-last batch-norm backward slows down sharply for rows of 8 channels on two threads (its
/// per-thread sums of 8 floats share cache lines): for part 2's (128, 8, 32, 32) activations, norm + leaky ReLU
/// forward and backward took 11–13 ms on 2 threads against about 2 ms here, and 4–8 ms against 2–3.5 ms on one.
/// For 16 and 32 channels libtorch's kernel alone is a little faster, but the whole VAE step is as fast or faster
/// with every block fused (one code path, and the statistics and gradients closest to float64), so
/// <see cref="Applies"/> takes every channel count that is a multiple of 8 (bench/README.md, part 2).
/// </remarks>
public sealed class FusedBatchNormLeakyRelu : autograd.SingleTensorFunction<FusedBatchNormLeakyRelu>
{
    public override string Name => nameof(FusedBatchNormLeakyRelu);

    /// <summary>Whether <see cref="Apply"/> is used for <paramref name="x"/> under <paramref name="norm"/>.</summary>
    public static bool Applies(Tensor x, BatchNorm2d norm) =>
        norm.training && norm.affine && norm.track_running_stats && x.dim() == 4 && BatchNormLeakyReluKernel.Fits(x.shape[1]) &&
        x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU && ChannelsLast.Is(x);

    /// <summary>
    /// <c>leaky_relu(norm(x), slope)</c>, updating <paramref name="norm"/>'s running statistics as its forward would
    /// (momentum, or the cumulative average when momentum is null; the running variance unbiased).
    /// </summary>
    public static Tensor Apply(Tensor x, BatchNorm2d norm, double slope)
    {
        if (!Applies(x, norm)) throw new ArgumentException("the fused batch norm takes channels-last float32 CPU activations with a multiple of 8 channels, in training mode", nameof(x));
        Tensor tracked = norm.num_batches_tracked ?? throw new ArgumentException("the batch norm tracks no statistics", nameof(norm));
        tracked.add_(1);
        double momentum = norm.momentum ?? 1.0 / tracked.item<long>();
        bool backward = is_grad_enabled() && (x.requires_grad || norm.weight!.requires_grad || norm.bias!.requires_grad);
        return apply(x, norm.weight!, norm.bias!, norm.running_mean, norm.running_var, momentum, norm.eps, slope, backward);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var bias = (Tensor)vars[2];
        var runningMean = (Tensor)vars[3];
        var runningVar = (Tensor)vars[4];
        double momentum = (double)vars[5], eps = (double)vars[6];
        float slope = (float)(double)vars[7];
        bool backward = (bool)vars[8];
        var (b, c, h, w) = ((int)x.shape[0], (int)x.shape[1], (int)x.shape[2], (int)x.shape[3]);
        int n = b * h * w;
        using var scope = NewDisposeScope();
        Tensor rows = x.permute(0, 2, 3, 1);                                       // (B, H, W, C): n rows of C
        double[] mean = new double[c], variance = new double[c];
        var stats = new Statistics(c, slope);
        BatchNormLeakyReluKernel.Mean(Floats(rows), n, c, mean);
        for (int j = 0; j < c; j++) stats.Mean[j] = (float)mean[j];
        BatchNormLeakyReluKernel.Variance(Floats(rows), n, c, stats.Mean, variance);
        float[] gamma = Values(weight);
        stats.Beta = Values(bias);
        for (int j = 0; j < c; j++)
        {
            stats.InvStd[j] = (float)(1.0 / Math.Sqrt(variance[j] + eps));
            stats.Alpha[j] = stats.InvStd[j] * gamma[j];
        }
        Tensor y = empty(b, h, w, c);
        BatchNormLeakyReluKernel.Normalize(Floats(rows), n, c, stats.Mean, stats.Alpha, stats.Beta, slope, Floats(y));
        // running statistics, as F.batch_norm: the biased variance normalises, the unbiased one is tracked
        Span<float> trackedMean = Floats(runningMean), trackedVar = Floats(runningVar);
        for (int j = 0; j < c; j++)
        {
            trackedMean[j] = (float)((1 - momentum) * trackedMean[j] + momentum * mean[j]);
            trackedVar[j] = (float)((1 - momentum) * trackedVar[j] + momentum * variance[j] * n / Math.Max(1, n - 1));
        }
        if (backward)
        {
            stats.Input = x.alias().DetachFromDisposeScope();                      // released by the backward (below)
            ctx.save_data(nameof(Statistics), stats);
        }
        return y.permute(0, 3, 1, 2).MoveToOuterDisposeScope();                    // (B, C, H, W), channels-last
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad)
    {
        var stats = (Statistics)ctx.get_data(nameof(Statistics));
        using Tensor x = stats.Input ?? throw new InvalidOperationException("the fused batch norm's backward ran twice (retain_graph is not supported)");
        stats.Input = null;
        var (b, c, h, w) = ((int)x.shape[0], (int)x.shape[1], (int)x.shape[2], (int)x.shape[3]);
        int n = b * h * w;
        using var scope = NewDisposeScope();
        Tensor gradRows = grad.permute(0, 2, 3, 1);
        if (!gradRows.is_contiguous()) gradRows = gradRows.contiguous();
        Tensor rows = x.permute(0, 2, 3, 1);
        double[] sumDz = new double[c], sumDzCentred = new double[c];
        BatchNormLeakyReluKernel.GradientSums(Floats(gradRows), Floats(rows), n, c, stats.Alpha, stats.Beta, stats.Mean, stats.Slope, sumDz, sumDzCentred);
        // dx = α·(dz − mean(dz) − x̂·mean(dz·x̂)), x̂ = (x − μ)·s, written as k₁·dz + k₂·(x − μ) + k₃
        float[] k1 = new float[c], k2 = new float[c], k3 = new float[c], gradWeight = new float[c], gradBias = new float[c];
        for (int j = 0; j < c; j++)
        {
            double alpha = stats.Alpha[j], s = stats.InvStd[j];
            double centred = -alpha * s * s * sumDzCentred[j] / n;
            k1[j] = (float)alpha;
            k2[j] = (float)centred;
            k3[j] = (float)(-alpha * sumDz[j] / n);
            gradWeight[j] = (float)(sumDzCentred[j] * s);
            gradBias[j] = (float)sumDz[j];
        }
        Tensor dx = empty(b, h, w, c);
        BatchNormLeakyReluKernel.InputGradient(Floats(gradRows), Floats(rows), n, c, stats.Mean, stats.Alpha, stats.Beta, stats.Slope, k1, k2, k3, Floats(dx));
        return
        [
            dx.permute(0, 3, 1, 2).MoveToOuterDisposeScope(), tensor(gradWeight).MoveToOuterDisposeScope(), tensor(gradBias).MoveToOuterDisposeScope(),
            null!, null!, null!, null!, null!, null!,
        ];
    }

    /// <summary>A copy of a small CPU tensor's floats (the accessor disposed at once: it holds a native handle).</summary>
    private static float[] Values(Tensor t)
    {
        using var accessor = t.data<float>();
        return accessor.ToArray();
    }

    /// <summary>The floats of a contiguous CPU tensor, in place (no copy).</summary>
    private static Span<float> Floats(Tensor contiguous) => MemoryMarshal.Cast<byte, float>(contiguous.bytes);

    /// <summary>What the backward needs from the forward, per channel.</summary>
    private sealed class Statistics(int channels, float slope)
    {
        public float[] Mean { get; } = new float[channels];
        public float[] InvStd { get; } = new float[channels];
        public float[] Alpha { get; } = new float[channels];   // weight · invstd
        public float[] Beta { get; set; } = [];                // the bias, as the forward read it
        public float Slope { get; } = slope;

        /// <summary>
        /// The input, held by this handle rather than <c>save_for_backward</c> so that the backward frees it as soon
        /// as it has run, as libtorch's own nodes release their saved tensors (TorchSharp's custom node keeps
        /// those until the graph is destroyed).
        /// </summary>
        public Tensor? Input { get; set; }
    }
}
