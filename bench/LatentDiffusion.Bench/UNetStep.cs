using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <summary>Per-step times of the UNet training step; the same fields as bench/pytorch_unet_step.py prints.</summary>
sealed record UNetStepResult(string Tool, string Model, long Parameters, int BatchSize, RuntimeInfo Runtime, int Steps, int WarmupSteps,
    double[] StepMs, double MedianStepMs, double MeanStepMs, double[] TrainLoss, double? RssMib)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>
/// Part 3's training step as <see cref="Trainer{TModel}"/> runs it, timed per step: a fresh permutation each epoch,
/// batch indices narrowed from it, <see cref="DiffusionTask.Loss"/> (t uniform in 1..T, ε ~ N(0, I), ε-MSE on the
/// linear schedule, T = 1000), zero_grad / backward / Adam(1e-3) step, the loss summed on the device; batch 128. The
/// counterpart of bench/pytorch_unet_step.py: N(0, I) latents (60000, 4, 4, 4) stand in for VAE latents.
/// </summary>
static class UNetStep
{
    public static UNetStepResult Run(int steps, int warmup, int[] widths, Action<string> log)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        const int batchSize = 128;
        torch.manual_seed(0);
        using var generator = new Generator(0);
        using Tensor latents = randn([60000, 4, 4, 4], generator: generator);
        using Tensor validation = randn([128, 4, 4, 4], generator: generator);
        var config = new DiffusionConfig { UNet = new UNetConfig { Widths = widths } };
        using var task = new DiffusionTask(latents, validation, config);
        using UNet model = task.CreateModel();
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        model.train();

        long n = task.TrainCount;
        int batches = (int)((n + batchSize - 1) / batchSize);
        var stepMs = new List<double>();
        var losses = new List<double>();
        using Tensor lossSum = zeros(1, ScalarType.Float64);
        var watch = new Stopwatch();
        while (stepMs.Count < warmup + steps)
        {
            using Tensor order = randperm(n, generator: generator);
            for (int b = 0; b < batches && stepMs.Count < warmup + steps; b++)
            {
                watch.Restart();
                double loss;
                using (NewDisposeScope())                                   // disposing the batch's tensors is part of the step
                {
                    long start = (long)b * batchSize;
                    Tensor index = order.narrow(0, start, Math.Min(batchSize, n - start));
                    optimizer.zero_grad();
                    BatchLoss batch = task.Loss(model, index, generator);
                    batch.Loss.backward();
                    optimizer.step();
                    lossSum.add_(batch.Loss.detach());
                    loss = batch.Loss.item<float>();
                }
                stepMs.Add(watch.Elapsed.TotalMilliseconds);
                losses.Add(loss);
            }
        }
        double[] timed = stepMs.Skip(warmup).ToArray();
        double[] sorted = timed.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        log($"UNet {string.Join(",", widths)}: median {median:F2} ms/step over {timed.Length} steps after {warmup} warm-up");
        return new UNetStepResult("LatentDiffusion (TorchSharp)", $"part 3 UNet (widths [{string.Join(", ", widths)}], embedding 16, T = {config.Steps} linear)",
            model.ParameterCount(), batchSize, Benchmark.Runtime(), steps, warmup, timed, median, timed.Average(), losses.Skip(warmup).ToArray(),
            ProcessMemory.RssMiB());
    }
}
