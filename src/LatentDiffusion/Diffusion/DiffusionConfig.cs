using System.Text.Json.Serialization;
using LatentDiffusion.Models;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// Settings of a latent diffusion model: its UNet, the noise schedule and how latents are scaled. Defaults are the
/// post's (linear β from 1e-4 to 2e-2, T = 1000, no scaling); the UNet is this project's design (see <see cref="UNetConfig"/>).
/// Recorded in the weights' metadata, so a model file says how to sample it.
/// </summary>
public sealed record DiffusionConfig
{
    public UNetConfig UNet { get; init; } = new();

    /// <summary>
    /// What the network predicts and how it is sampled: ε for DDPM/DDIM (part 3, the default; configs written before
    /// this setting read as ε), or x1 − x0 for iterative α-(de)blending (the follow-up post). Samplers refuse a model
    /// of the other kind.
    /// </summary>
    [JsonConverter(typeof(JsonStringEnumConverter<DiffusionObjective>))]
    public DiffusionObjective Objective { get; init; } = DiffusionObjective.Epsilon;

    /// <summary>
    /// α-(de)blending only: the embedding is fed α·<see cref="AlphaScale"/>, so α ∈ [0, 1] spans the same range as DDPM's
    /// integer t ∈ 1..T (the follow-up feeds α itself, i.e. 1, which with the post's embedding scale of 1000 leaves all
    /// but the fastest frequencies nearly constant; docs/numbers.md). Default 1000.
    /// </summary>
    public double AlphaScale { get; init; } = 1000;

    /// <summary>T. The post: 1000.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>β_1. The post: 1e-4.</summary>
    public double BetaStart { get; init; } = 1e-4;

    /// <summary>β_T. The post: 2e-2.</summary>
    public double BetaEnd { get; init; } = 2e-2;

    /// <summary>
    /// Latents are multiplied by this before diffusion and divided after sampling (Rombach et al. 2022, §4.3.2 and
    /// appendix G, "rescale the latent to unit standard deviation"). The post: 1 (no scaling; its VAE's prior is N(0, I)).
    /// </summary>
    public double LatentScale { get; init; } = 1.0;

    /// <summary>max |z|·scale over the training latents, recorded at training; sampling with x̂_0 clipping clamps to it (not in the post).</summary>
    public double? LatentRange { get; init; }

    /// <summary>
    /// Class-conditional models (<see cref="UNetConfig.Classes"/> &gt; 0): the probability with which training replaces
    /// a label by "no label", so that the network also learns the unconditional prediction that classifier-free guidance
    /// needs. Ho and Salimans: 0.1–0.2. Default 0.1.
    /// </summary>
    public double LabelDropout { get; init; } = 0.1;

    /// <summary>SHA-256 of the VAE whose latents the model was trained on (informational: sampling with another VAE warns).</summary>
    public string? VaeSha256 { get; init; }

    /// <summary>
    /// Set for a distilled student (α-deblending only): the grid of α levels it was trained on and its teacher. A student
    /// is sampled by <see cref="Sampling.Samplers.Student"/> at <see cref="StudentConfig.SupportedSteps"/> only, and a
    /// teacher's sampler refuses it. Null for every trained-from-data model, and then not written: the settings JSON of
    /// every other model stays as it was (resumes and finished-run checks compare it).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public StudentConfig? Student { get; init; }

    /// <summary>
    /// Class-conditional models: the classifier-free guidance weight w to sample with when none is asked for, chosen by
    /// measurement for this model (<c>ldm reproduce conditional</c>'s sweep, recorded by <c>ldm diffusion
    /// set-guidance</c>). Null, and then not written: <see cref="Training.Recipes.Guidance"/>, MNIST's.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Guidance { get; init; }

    /// <summary>The guidance weight this model samples with by default: <see cref="Guidance"/>, else <see cref="Training.Recipes.Guidance"/>.</summary>
    [JsonIgnore]
    public double DefaultGuidance => Guidance ?? Training.Recipes.Guidance;

    /// <summary>The latent shape (C, S, S) the UNet works on: S = 4 for the series' VAEs.</summary>
    [JsonIgnore]
    public long[] LatentShape => [UNet.LatentChannels, UNet.Side, UNet.Side];

    public NoiseSchedule CreateSchedule() => NoiseSchedule.Linear(Steps, BetaStart, BetaEnd);

    /// <summary>"ε (DDPM)" or "x1 − x0 (α-deblending)", for messages naming a model file's kind.</summary>
    [JsonIgnore]
    public string KindName => Objective == DiffusionObjective.Epsilon ? "an ε-prediction (DDPM) model"
        : Student is { } s ? $"a distilled α-deblending student for {s.StepsText()} steps" : "an α-deblending (x1 − x0) model";

    public void Validate()
    {
        UNet.Validate();
        if (!Enum.IsDefined(Objective)) throw new ArgumentOutOfRangeException(nameof(Objective), Objective, "unknown objective");
        if (!(LabelDropout >= 0 && LabelDropout <= 1)) throw new ArgumentOutOfRangeException(nameof(LabelDropout), LabelDropout, "must be in [0, 1]");
        if (!(AlphaScale > 0) || double.IsInfinity(AlphaScale)) throw new ArgumentOutOfRangeException(nameof(AlphaScale), AlphaScale, "must be positive");
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 2);
        if (!(BetaStart > 0 && BetaEnd < 1 && BetaStart < BetaEnd)) throw new ArgumentException("need 0 < β_start < β_end < 1");
        if (!(LatentScale > 0) || double.IsInfinity(LatentScale)) throw new ArgumentOutOfRangeException(nameof(LatentScale), LatentScale, "must be positive");
        if (Student is not null && Objective != DiffusionObjective.AlphaDeblending) throw new ArgumentException("a distilled student is an α-deblending model");
        Student?.Validate();
    }
}

/// <summary>What a latent diffusion network is trained to predict.</summary>
public enum DiffusionObjective
{
    /// <summary>The noise ε of x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (Ho et al. 2020; part 3).</summary>
    Epsilon,

    /// <summary>x1 − x0 at x_α = (1 − α) x0 + α x1 (Heitz et al. 2023, iterative α-(de)blending; the follow-up post).</summary>
    AlphaDeblending,
}
