using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// k-step distillation of a rectified flow (Liu et al. 2022, §2.3 "distillation"): on the teacher's (x1, x0) pairs
/// (<see cref="TeacherPairs"/>) the student learns the straight line between them, D(x_α, α) ≈ x1 − x0 at
/// x_α = (1 − α) x0 + α x1 — the α-deblending loss (<see cref="AlphaDeblending.PLosses"/>) with the teacher's sample as
/// x0 — but only at the levels α ∈ {1/k, 2/k, …, 1} that Euler steps on a k-step grid, or a coarser grid it contains,
/// start from (uniform over them). There, x0 = x_α − α·D, so one step from pure noise is the teacher's whole trajectory.
/// The student starts from the teacher's weights, or from a smaller α-deblending model's on the same latents. Validation: the same loss on held-out pairs with fresh draws, and the
/// one-step loss (α = 1 alone), whose square root is the RMS error of a one-evaluation sample's latent.
/// </summary>
public sealed class DistillationTask : ITrainingTask<UNet>
{
    readonly DiffusionConfig config;
    readonly string startPath;
    readonly int gridSteps;

    /// <param name="noise">x1 of the training pairs (N, C, 4, 4); the task does not own it, nor the others.</param>
    /// <param name="samples">The teacher's scaled latents x0 from them (N, C, 4, 4).</param>
    /// <param name="config">The student's settings: those of the model it starts from, with <see cref="DiffusionConfig.Student"/> set.</param>
    /// <param name="startPath">The weights it starts from: the teacher's, or a smaller model's (whose UNet <paramref name="config"/> has).</param>
    public DistillationTask(Tensor noise, Tensor samples, Tensor validationNoise, Tensor validationSamples, DiffusionConfig config, string startPath)
    {
        config.Validate();
        if (config.Student is not { } student) throw new ArgumentException("the student's config must say what it is distilled for (Student)");
        if (!noise.shape.SequenceEqual(samples.shape) || !validationNoise.shape.SequenceEqual(validationSamples.shape))
            throw new ArgumentException("noise and samples must have one shape");
        if (noise.dim() != 4 || !noise.shape.Skip(1).SequenceEqual(config.LatentShape))
            throw new ArgumentException($"pairs [{string.Join(", ", noise.shape)}] do not fit a UNet for latents ({string.Join(", ", config.LatentShape)})");
        Noise = noise;
        Samples = samples;
        ValidationNoise = validationNoise;
        ValidationSamples = validationSamples;
        this.config = config;
        this.startPath = startPath;
        gridSteps = student.GridSteps;
    }

    public Tensor Noise { get; }
    public Tensor Samples { get; }
    public Tensor ValidationNoise { get; }
    public Tensor ValidationSamples { get; }

    public string Architecture => nameof(UNet);

    public string? Settings => JsonSerializer.Serialize(config);

    public long TrainCount => Noise.shape[0];

    /// <summary>The starting model's UNet and weights (its settings must be the student's).</summary>
    public UNet CreateModel()
    {
        (UNet start, DiffusionConfig startConfig) = ModelFile.LoadDiffusion(startPath);
        if (!startConfig.UNet.Equals(config.UNet))
        {
            start.Dispose();
            throw new DataFormatException(startPath, "its UNet is not the student's");
        }
        return start;
    }

    public BatchLoss Loss(UNet model, Tensor indices, Generator generator) =>
        new(Step(model, Noise.index_select(0, indices), Samples.index_select(0, indices), generator));

    public ValidationResult Validate(UNet model, int batchSize, Generator generator)
    {
        double sum = 0, oneStep = 0;
        int batches = 0;
        long n = ValidationNoise.shape[0];
        for (long start = 0; start < n; start += batchSize, batches++)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(batchSize, n - start);
            Tensor x1 = ValidationNoise.narrow(0, start, size), x0 = ValidationSamples.narrow(0, start, size);
            sum += Step(model, x1, x0, generator).item<float>();
            oneStep += AlphaDeblending.PLosses(model.forward, x0, x1, ones([size], dtype: x0.dtype, device: x0.device), config.AlphaScale).item<float>();
        }
        return new ValidationResult(sum / batches, [("one_step", oneStep / batches)]);
    }

    /// <summary>The loss at α = j/k, j uniform in 1..k per example.</summary>
    Tensor Step(UNet model, Tensor x1, Tensor x0, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor alpha = randint(1, gridSteps + 1, [x0.shape[0]], dtype: x0.dtype, device: x0.device, generator: generator).div_(gridSteps);   // (B,)
        return AlphaDeblending.PLosses(model.forward, x0, x1, alpha, config.AlphaScale).MoveToOuterDisposeScope();
    }
}
