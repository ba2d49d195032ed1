using LatentDiffusion.Diffusion;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>How to sample a latent diffusion model: which sampler and how many steps, guidance, batching, trajectories, device.</summary>
public sealed record SamplingOptions
{
    /// <summary>Latents per batch; the seed's stream is consumed batch after batch, so results depend on it. Default 1000.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>Clamp x̂_0 to the training latents' range at every step (ε-models; not in the post; its samples can diverge). Default off.</summary>
    public bool ClipX0 { get; init; }

    /// <summary>Keep every k-th step's decoded latent for a denoising-trajectory figure (0: none).</summary>
    public int TrajectoryEvery { get; init; }

    /// <summary>How many of the first samples to keep trajectories of.</summary>
    public int TrajectoryCount { get; init; } = 8;

    /// <summary>
    /// Called with each trajectory frame (step, decoded images (k, 1, 32, 32) on the CPU) as soon as it is made, so a
    /// caller can show the denoising while it runs. The tensor is the one kept in <see cref="LatentSamples.Trajectory"/>:
    /// read it, do not dispose it. The callback runs inside the sampler's dispose scope, so tensors it makes are freed
    /// when the batch ends (<c>DetachFromDisposeScope()</c> keeps one longer). Null: none.
    /// </summary>
    public Action<int, Tensor>? OnFrame { get; init; }

    /// <summary>
    /// Checked before each batch and between sampler steps: once cancelled, sampling stops with an
    /// <see cref="OperationCanceledException"/> and frees what it had made. Default: never cancelled.
    /// </summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Where the UNet and VAE are and the draws are made (null: CPU). The results come back on the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Which sampler (null: <see cref="Samplers.Default"/>, the one the model's post samples with).</summary>
    public ISampler? Sampler { get; init; }

    /// <summary>Sampling steps S (null: the sampler's <see cref="ISampler.DefaultSteps"/>).</summary>
    public int? Steps { get; init; }

    /// <summary>DDIM's η in [0, <see cref="Ddim.MaxEta"/>] (0: deterministic; 1 with S = T: DDPM); −0 reads as 0. Default 0.</summary>
    public double Eta { get; init => field = value == 0 ? 0 : value; }

    /// <summary>Class-conditional models: the digit of each sample (length = count), null: unconditional ("no label").</summary>
    public IReadOnlyList<int>? Labels { get; init; }

    /// <summary>Classifier-free guidance weight w in [0, <see cref="Diffusion.Guidance.MaxWeight"/>] with <see cref="Labels"/> (0: unconditional, 1: conditional, &gt; 1: guided). Default 1.</summary>
    public double Guidance { get; init; } = 1;

    /// <summary>
    /// Apply <see cref="Guidance"/> only while the noise level — t/T for DDPM/DDIM, α for α-deblending — is within
    /// [low, high], the plain conditional prediction elsewhere (Kynkäänniemi et al. 2024). Null: at every step.
    /// </summary>
    public (double Low, double High)? GuidanceInterval { get; init; }

    /// <summary>The sampler this resolves to for <paramref name="config"/>'s model.</summary>
    public ISampler SamplerFor(DiffusionConfig config) => Sampler ?? Samplers.Default(config);

    /// <summary>The steps this resolves to for <paramref name="config"/>'s model.</summary>
    public int StepsFor(DiffusionConfig config) => Steps ?? SamplerFor(config).DefaultSteps(config);

    /// <summary>Network evaluations per sample.</summary>
    public int EvaluationsFor(DiffusionConfig config) => SamplerFor(config).Evaluations(StepsFor(config));

    /// <summary>A short description, e.g. "DDIM 50 steps, η = 0" or "α-deblending 25 Heun steps".</summary>
    public string Describe(DiffusionConfig config) => SamplerFor(config).Describe(StepsFor(config), this);

    /// <summary>
    /// Why these options cannot sample <paramref name="config"/>'s model, in words (null: they can): a sampler of the other
    /// kind of model, steps out of range, a negative η, an option the sampler does not read.
    /// </summary>
    public string? Problem(DiffusionConfig config)
    {
        ISampler sampler = SamplerFor(config);
        if (!sampler.Fits(config))
            return $"the {sampler.Name} sampler does not fit {config.KindName}; use {Samplers.Join(Samplers.For(config))}";
        int steps = StepsFor(config);
        if (sampler.StepsProblem(steps, config) is { } stepsProblem) return stepsProblem;
        if (steps < 1) return $"steps must be at least 1 (got {steps})";
        if (sampler.MaxSteps(config) is int max && steps > max) return $"steps must be at most {(max == config.Steps ? "T = " : "")}{max} (got {steps})";
        if (sampler.FixedSteps && steps != sampler.DefaultSteps(config))
            return $"{sampler.Title} walks all T = {config.Steps} steps (got {steps}); use {Samplers.Join(Samplers.For(config).Where(s => !s.FixedSteps))} for fewer";
        if (Ddim.EtaProblem(Eta) is { } eta) return eta;
        if (Diffusion.Guidance.WeightProblem(Guidance) is { } guidance) return guidance;
        if (GuidanceInterval is var (low, high) && !(low >= 0 && low <= high && high <= 1)) return $"the guidance interval must satisfy 0 ≤ low ≤ high ≤ 1 (got {low}, {high})";
        if (Labels is not null && config.UNet.Classes == 0) return "the model is unconditional: it cannot be asked for a digit";
        if (Labels is not null && Labels.Any(l => l < 0 || l >= config.UNet.Classes)) return $"labels must be in 0..{config.UNet.Classes - 1}";
        if (Eta > 0 && !sampler.Parameters.Contains("eta"))
            return $"eta applies to the {Samplers.Join(Samplers.All.Where(s => s.Parameters.Contains("eta")))} sampler only";
        return null;
    }
}
