using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <summary>
/// Per-step times of a training step, with the fields of the PyTorch scripts: bench/pytorch_unet_step.py names a step
/// a "step" (<c>steps</c>, <c>warmup_steps</c>, <c>step_ms</c>, <c>median_step_ms</c>, <c>mean_step_ms</c>),
/// bench/pytorch_vae_epoch.py a "batch" (<c>batches</c>, <c>warmup_batches</c>, <c>batch_ms</c>, …); <see cref="ToJson"/>
/// writes either.
/// </summary>
sealed record StepTimes(string Tool, string Model, long Parameters, int BatchSize, RuntimeInfo Runtime, int Steps, int WarmupSteps,
    double[] StepMs, double MedianStepMs, double MeanStepMs, double[] TrainLoss, double? RssMib)
{
    /// <param name="unit">What the PyTorch counterpart calls one step: "step" or "batch".</param>
    /// <param name="units">Its plural: "steps" or "batches".</param>
    public string ToJson(string unit = "step", string units = "steps") =>
        JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = new UnitNaming(unit, units) });

    /// <summary>snake_case, with "Steps" and "Step" in a property's name replaced by the unit ("WarmupSteps" → "warmup_batches", "StepMs" → "batch_ms").</summary>
    sealed class UnitNaming(string unit, string units) : JsonNamingPolicy
    {
        public override string ConvertName(string name) => SnakeCaseLower.ConvertName(name
            .Replace("Steps", Capitalized(units), StringComparison.Ordinal)
            .Replace("Step", Capitalized(unit), StringComparison.Ordinal));

        static string Capitalized(string word) => char.ToUpperInvariant(word[0]) + word[1..];
    }
}

/// <summary>
/// Times the training step of any <see cref="ITrainingTask{TModel}"/> exactly as <see cref="Trainer{TModel}"/> runs a
/// batch at a constant rate without EMA (the posts' loops): a fresh permutation of the training set each epoch, the
/// batch's indices narrowed from it, zero_grad, <see cref="ITrainingTask{TModel}.Loss"/>, backward, Adam step, the loss
/// and its parts summed on the device, the batch's dispose scope closed. The global generator is seeded before
/// <see cref="ITrainingTask{TModel}.CreateModel"/> and the run's generator (permutations, the loss's draws) is seeded 0,
/// as the trainer does for seed 0. Warm-up steps run first, untimed; epochs are crossed as needed.
/// </summary>
static class TrainingStepBench
{
    public const int BatchSize = 128;
    public const double LearningRate = 1e-3;

    public static StepTimes Run<TModel>(ITrainingTask<TModel> task, int steps, int warmup, int batchSize, double learningRate,
        string describe, Action<string> log, Action<TModel>? prepare = null) where TModel : nn.Module
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        LatentDiffusion.Native.NativeAllocator.KeepFreedMemory();    // glibc keeps freed blocks: as LDM_GLIBC_MALLOC=keep (bench/README, part 2)
        torch.manual_seed(0);
        using TModel model = task.CreateModel();
        prepare?.Invoke(model);
        using var optimizer = optim.Adam(model.parameters(), lr: learningRate);
        using var generator = new Generator(0);
        model.train();

        long n = task.TrainCount;
        int batches = (int)((n + batchSize - 1) / batchSize);
        var stepMs = new List<double>();
        var losses = new List<double>();
        using Tensor lossSum = zeros(1, ScalarType.Float64);
        var partSums = new List<Tensor>();
        var watch = new Stopwatch();
        while (stepMs.Count < warmup + steps)
        {
            using Tensor order = randperm(n, generator: generator);
            for (int b = 0; b < batches && stepMs.Count < warmup + steps; b++)
            {
                watch.Restart();
                Tensor loss;
                using (NewDisposeScope())                                   // disposing the batch's tensors is part of the step
                {
                    long start = (long)b * batchSize;
                    Tensor index = order.narrow(0, start, Math.Min(batchSize, n - start));
                    optimizer.zero_grad();
                    BatchLoss batch = task.Loss(model, index, generator);
                    batch.Loss.backward();
                    optimizer.step();
                    loss = batch.Loss.detach();
                    lossSum.add_(loss);
                    AddParts(partSums, batch.Parts);
                    loss.MoveToOuterDisposeScope();
                }
                stepMs.Add(watch.Elapsed.TotalMilliseconds);
                losses.Add(loss.item<float>());                             // outside the timed span, as the scripts' loss.item()
                loss.Dispose();
            }
        }
        foreach (Tensor sum in partSums) sum.Dispose();
        double[] timed = stepMs.Skip(warmup).ToArray();
        double median = Statistics.Median(timed);
        log($"{describe}: median {median:F2} ms/step over {timed.Length} steps after {warmup} warm-up");
        return new StepTimes("LatentDiffusion (TorchSharp)", describe, model.parameters().Sum(p => p.numel()), batchSize, Benchmark.Runtime(),
            steps, warmup, timed, median, timed.Average(), losses.Skip(warmup).ToArray(), ProcessMemory.RssMiB());
    }

    /// <summary>
    /// Part 3's step (<see cref="DiffusionTask"/>: t uniform in 1..T, ε ~ N(0, I), ε-MSE on the linear schedule, T = 1000)
    /// on N(0, I) latents (60000, 4, 4, 4) standing in for the VAE's, as bench/pytorch_unet_step.py.
    /// </summary>
    public static StepTimes UNet(int[] widths, int steps, int warmup, Action<string> log)
    {
        using var generator = new Generator(0);
        using Tensor latents = randn([60000, 4, 4, 4], generator: generator);
        using Tensor validation = randn([128, 4, 4, 4], generator: generator);
        var config = new DiffusionConfig { UNet = new UNetConfig { Widths = widths } };
        using var task = new DiffusionTask(latents, validation, config);
        return Run(task, steps, warmup, BatchSize, LearningRate,
            $"part 3 UNet (widths [{string.Join(", ", widths)}], embedding 16, T = {config.Steps} linear)", log);
    }

    /// <summary>Part 2's VAE step (<see cref="VaeTask"/>, the post's <see cref="VaeConfig"/>) on the MNIST training set, as bench/pytorch_vae_epoch.py.</summary>
    public static StepTimes Vae(string mnistDirectory, int steps, int warmup, bool channelsLast, Action<string> log)
    {
        var config = new VaeConfig();
        using Tensor train = MnistDataset.Load(mnistDirectory).Train.ToInputs();    // (60000, 1, 32, 32)
        var task = new VaeTask(train, validation: train, config);                   // validation never runs here
        return Run(task, steps, warmup, BatchSize, LearningRate,
            $"part 2 VAE (ConvEncoder [{string.Join(", ", config.EncoderFeatures)}], ConvDecoder [{string.Join(", ", config.DecoderFeatures)}], " +
            $"sigma {config.Sigma.ToString().ToLowerInvariant()}, KL weight {config.KlWeight}{(channelsLast ? ", channels-last" : "")})", log,
            model => model.ChannelsLastLayout = channelsLast);
    }

    /// <summary>Part 2's autoencoder step (<see cref="AutoencoderTask"/>, the post's <see cref="AutoencoderConfig"/>) on the MNIST training set; no PyTorch counterpart.</summary>
    public static StepTimes Autoencoder(string mnistDirectory, int steps, int warmup, bool channelsLast, Action<string> log)
    {
        var config = new AutoencoderConfig();
        using Tensor train = MnistDataset.Load(mnistDirectory).Train.ToInputs();
        var task = new AutoencoderTask(train, validation: train, config);
        return Run(task, steps, warmup, BatchSize, LearningRate, $"part 2 autoencoder (features [{string.Join(", ", config.Features)}]{(channelsLast ? ", channels-last" : "")})", log,
            model => model.ChannelsLastLayout = channelsLast);
    }

    /// <summary>The trainer's running sums of the loss's named parts (e.g. the VAE's train_rec and train_kl), on the device.</summary>
    static void AddParts(List<Tensor> sums, IReadOnlyList<(string Name, Tensor Value)>? parts)
    {
        if (parts is null) return;
        for (int i = 0; i < parts.Count; i++)
        {
            if (sums.Count <= i) sums.Add(zeros(1, ScalarType.Float64).DetachFromDisposeScope());
            sums[i].add_(parts[i].Value.detach());
        }
    }
}
