using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// BatchNorm statistics for averaged weights. An exponential moving average of the weights (<see
/// cref="TrainingConfig.EmaDecay"/>) is not a model the live BatchNorm statistics belong to: its layers' activations
/// have other means and variances. As <c>torch.optim.swa_utils.update_bn</c> does for averaged weights, the statistics
/// are recomputed from training batches run through the averaged model in train mode (a cumulative average, not a
/// moving one). With the live statistics an averaged VAE scores worse than the live weights; with its own, better
/// (measured: docs/numbers.md, part 2).
/// </summary>
public static class AveragedBatchNorm
{
    /// <summary>Training batches the statistics are recomputed over (or the whole set, if smaller). Default 100.</summary>
    public const int Batches = 100;

    /// <summary>Whether <paramref name="model"/> has BatchNorm layers that track running statistics (nothing to do otherwise).</summary>
    public static bool Applies(nn.Module model) => model.modules().OfType<BatchNorm>().Any(n => n.track_running_stats);

    /// <summary>
    /// Resets <paramref name="averaged"/>'s BatchNorm running statistics and recomputes them as the cumulative average over
    /// <see cref="Batches"/> batches of <paramref name="batchSize"/> training examples (a permutation drawn from a
    /// generator seeded with <paramref name="seed"/>, which also feeds the loss's own draws): <paramref name="task"/>'s
    /// loss is run in train mode under no_grad, so only the statistics change. Momentum and mode are restored afterwards.
    /// Deterministic for a seed; no effect on a model without such layers.
    /// </summary>
    public static void Recompute<TModel>(ITrainingTask<TModel> task, TModel averaged, int batchSize, long seed, Device? device = null, int batches = Batches)
        where TModel : nn.Module
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(averaged);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        var norms = averaged.modules().OfType<BatchNorm>().Where(n => n.track_running_stats).ToList();
        if (norms.Count == 0) return;
        var momenta = norms.Select(n => n.momentum).ToList();
        bool wasTraining = averaged.training;
        try
        {
            foreach (var norm in norms)
            {
                norm.reset_running_stats();
                norm.momentum = null;                                                     // cumulative: every batch weighs the same
            }
            averaged.train();
            using var noGrad = no_grad();
            using var generator = new Generator(unchecked((ulong)seed * 1_000_003UL + 0x5EEDB47CUL), device ?? CPU);
            long n = task.TrainCount;
            using Tensor order = randperm(n, device: device ?? CPU, generator: generator);
            long count = Math.Min(batches, (n + batchSize - 1) / batchSize);
            for (long b = 0; b < count; b++)
            {
                using var scope = NewDisposeScope();
                long start = b * batchSize;
                task.Loss(averaged, order.narrow(0, start, Math.Min(batchSize, n - start)), generator);
            }
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++) norms[i].momentum = momenta[i];
            averaged.train(wasTraining);
        }
    }
}
