using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;

namespace LatentDiffusion.Training;

/// <summary>One model's recipe: its settings and its training config.</summary>
public sealed record Recipe<TConfig>(string Name, TConfig Model, TrainingConfig Training, string Why);

/// <summary>
/// Every shipped recipe and default in one place: the recipes behind the weights in models/, which
/// <c>ldm reproduce … --train</c> runs again, the train commands' defaults, and the sampling defaults (guidance) that
/// the CLI and the server share. The posts' recipes (<see cref="TrainingConfig.Part2"/>: 400 epochs at a constant rate)
/// stay available through the train commands' options; these fit this project's time budget on 2 CPU cores (what each
/// measured: docs/numbers.md).
/// </summary>
public static class Recipes
{
    /// <summary>
    /// Part 2's autoencoder: the post's model and loss, channels-last, batches of 32, 38 epochs with a cosine rate from
    /// 2e-3 — below the post's test SSE of 2.7 in under an hour on one core.
    /// </summary>
    public static Recipe<AutoencoderConfig> Autoencoder { get; } = new("autoencoder", new AutoencoderConfig { ChannelsLast = true },
        TrainingConfig.Part2 with { Epochs = 38, BatchSize = 32, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 500, LogEvery = 2, CheckpointEvery = 1 },
        "the post's model and loss; four times the steps per epoch and a cosine-decayed rate reach in 38 epochs what a constant 1e-3 at batch 128 needs hundreds for");

    /// <summary>
    /// Part 2's VAE: the post's model and loss (raw σ, KL weight 1) and its Adam at 1e-3 with batches of 128,
    /// channels-last, for 48 epochs with the rate cosine-decayed to 1 % instead of 400 at a constant rate (a constant
    /// rate stays chaotic to the end). Channels-last is safe for the raw-σ KL, whose encoder gradients are
    /// ill-conditioned, since <see cref="Models.FusedBatchNormLeakyRelu"/>: its float32 gradients are in NCHW's regime
    /// (VaeTests).
    /// </summary>
    public static Recipe<VaeConfig> Vae { get; } = new("vae", new VaeConfig { ChannelsLast = true },
        TrainingConfig.Part2 with { Epochs = 48, Schedule = LearningRateSchedule.Cosine, LogEvery = 4, CheckpointEvery = 1 },
        "the post's model, loss, rate and batch size (raw σ, KL weight 1, Adam 1e-3, 128), channels-last, 48 epochs with the rate cosine-decayed to 1 %");

    /// <summary>
    /// Part 3's autoencoder (beyond the post): log-variance VAE with a 1x1 head, 8 latent channels, KL weight 0.01, so
    /// reconstructions are sharp enough for the diffusion model's digits to score well (the post's VAE's own
    /// reconstructions bound any generator in its latent space far above the post's FID).
    /// </summary>
    public static Recipe<VaeConfig> LatentVae { get; } = new("latent-vae",
        new VaeConfig { Sigma = SigmaParameterization.LogVariance, HeadChannels = 32, LatentChannels = 8, KlWeight = 0.01, ChannelsLast = true },
        TrainingConfig.Part2 with { Epochs = 20, BatchSize = 32, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 500, LogEvery = 4, CheckpointEvery = 1 },
        "a small KL weight and more latent channels, as latent-diffusion practice does");

    /// <summary>
    /// Part 3's latent VAE with one level fewer: [1, 16, 32] and 4 channels, so (4, 8, 8) latents — 256 numbers per 32x32
    /// image where <see cref="LatentVae"/> keeps 128 (Rombach et al. 2022's f = 4 autoencoders keep 3-4 channels too) —
    /// for data whose textures a 4x4 latent loses (Fashion-MNIST). 10 epochs of the same loop: its validation error
    /// there is below the 4x4 VAE's after 20 (docs/datasets.md).
    /// </summary>
    public static Recipe<VaeConfig> LatentVae8 { get; } = new("latent-vae-8",
        LatentVae.Model.ForLatentSide(8) with { LatentChannels = 4 },
        LatentVae.Training with { Epochs = 10, LogEvery = 2 },
        "one level fewer for 8x8 latents that keep textures; half the epochs");

    /// <summary>The latent VAE recipe for latents of <paramref name="side"/> (4 or 8): <see cref="LatentVae"/> or <see cref="LatentVae8"/>.</summary>
    public static Recipe<VaeConfig> LatentVaeAt(int side) => side switch
    {
        4 => LatentVae,
        8 => LatentVae8,
        _ => throw new ArgumentOutOfRangeException(nameof(side), side, "the recipes have latents of side 4 or 8"),
    };

    /// <summary>
    /// <c>ldm vae tune-decoder</c>'s defaults: a short cosine run from a lower rate than the VAE's own (the decoder
    /// starts trained), batches of 64, perceptual weight 1.
    /// </summary>
    public static TrainingConfig DecoderTuning { get; } = TrainingConfig.Part2 with
    {
        Epochs = 6, BatchSize = 64, LearningRate = 5e-4, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 200, LogEvery = 1, CheckpointEvery = 1,
    };

    /// <summary>
    /// The perceptual classifier the shipped decoder tuning measures against: part 1's network and loop (the train
    /// command's defaults), seed 1 so that it is not the FID's classifier (seed 0), 40 epochs (98.9 % on MNIST).
    /// </summary>
    public static TrainingConfig PerceptualClassifier { get; } = new() { Epochs = 40, Seed = 1, LogEvery = 5, CheckpointEvery = 5 };

    /// <summary>λ of <see cref="DecoderTuningTask"/>'s perceptual term by default.</summary>
    public const double DecoderFeatureWeight = 1.0;

    /// <summary>
    /// Fashion-MNIST's shipped decoder: the tuned decoder made <see cref="WideDecoderWidth"/> times wider at the same
    /// function, then tuned again with the same loss for 4 epochs (<c>ldm vae tune-decoder --decoder-width 2 --epochs 4</c>
    /// on the tuned file). Its reconstructions went from 13.1x to 10.6x Validation and the unchanged generator's
    /// guided row from 39.8x to 34.9x (docs/numbers.md, "A wider decoder for Fashion-MNIST").
    /// </summary>
    public static TrainingConfig WideDecoderTuning { get; } = DecoderTuning with { Epochs = 4 };

    /// <summary>The widening of <see cref="WideDecoderTuning"/>.</summary>
    public const int WideDecoderWidth = 2;

    /// <summary><c>ldm diffusion train</c>'s defaults: the post's loop (Adam, validation every 10 epochs); the post does not state rate, batch or epochs.</summary>
    public static TrainingConfig DiffusionTrainingDefaults { get; } = new() { Epochs = 200, BatchSize = 128, LearningRate = 1e-3 };

    /// <summary>Part 3's UNet (this project's design, see <see cref="UNetConfig"/>): widths (32, 64), the time-gated input skip.</summary>
    public static UNetConfig DiffusionUNet(int latentChannels) => new() { LatentChannels = latentChannels, Widths = [32, 64], InputSkip = true };

    /// <summary>The wide α-deblending model's UNet: part 3's with twice the widths, (64, 128) — 420,048 parameters at 8 latent channels.</summary>
    public static UNetConfig WideUNet(int latentChannels) => DiffusionUNet(latentChannels) with { Widths = [64, 128] };

    /// <summary>
    /// The training of every shipped diffusion model (DDPM, α-deblending, the wide α-deblending): 200 epochs, rate 2e-3
    /// cosine-decayed after 500 warm-up steps, EMA 0.999.
    /// </summary>
    public static TrainingConfig DiffusionTraining { get; } = DiffusionTrainingDefaults with
    {
        Epochs = 200, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 500, EmaDecay = 0.999, LogEvery = 10, CheckpointEvery = 5,
    };

    /// <summary>The class-conditional model's training: <see cref="DiffusionTraining"/> cut to 100 epochs.</summary>
    public static TrainingConfig ConditionalTraining { get; } = DiffusionTraining with { Epochs = 100 };

    /// <summary>
    /// The conditional model's training on latents of <paramref name="side"/>: <see cref="ConditionalTraining"/> at 4;
    /// at any larger side, where a step costs about 4x or more, 40 epochs of it — measured at 8 (the shipped
    /// Fashion-MNIST generator's); the recipes make no other side, but a VAE trained with <c>--latent-side 16</c> gets this.
    /// </summary>
    public static TrainingConfig ConditionalTrainingAt(int side) => side == 4 ? ConditionalTraining : ConditionalTraining with { Epochs = 40, LogEvery = 5, CheckpointEvery = 1 };

    /// <summary>
    /// The distilled student (<c>ldm diffusion distill</c>): pairs from the teacher's best 10-evaluation sampler
    /// (DPM-Solver++(2M) on Karras's grid, docs/numbers.md), 60,000 of them, a 4-step grid (so 1, 2 and 4 steps).
    /// </summary>
    public static DistillationSettings Distillation { get; } = new();

    /// <summary>
    /// The student's training: it starts from the teacher's weights, so a fifth of the teacher's peak rate, a short
    /// warm-up, EMA 0.999, an epoch (469 steps) per checkpoint.
    /// </summary>
    public static TrainingConfig DistillationTraining { get; } = DiffusionTraining with
    {
        Epochs = 30, LearningRate = 4e-4, WarmupSteps = 200, LogEvery = 1, CheckpointEvery = 1,
    };

    /// <summary>
    /// The class-conditional model: part 3's UNet with <paramref name="classes"/> classes (MNIST's ten by default),
    /// α-deblending (α·1000 in the embedding), labels dropped with p = 0.1.
    /// </summary>
    public static DiffusionConfig ConditionalModel(DiffusionConfig latents, int classes = 10) => latents with
    {
        UNet = ConditionalUNetAt(latents.UNet.Side, latents.UNet.LatentChannels) with { Classes = classes },
        Objective = DiffusionObjective.AlphaDeblending,
        LabelDropout = 0.1,
    };

    /// <summary>
    /// The conditional model's UNet for latents of <paramref name="side"/>: part 3's (32, 64) at 4; at any larger side
    /// the wide (64, 128) — measured at 8, where it reached a lower validation loss after 15 of its 40 epochs than
    /// (32, 64) after all 40, and a lower FID (docs/numbers.md, "Fashion-MNIST at 8x8 latents").
    /// </summary>
    public static UNetConfig ConditionalUNetAt(int side, int latentChannels) =>
        (side == 4 ? DiffusionUNet(latentChannels) : WideUNet(latentChannels)).ForLatentSide(side);

    /// <summary>The classifier-free guidance weight w when none is asked for (<c>ldm generate</c>, <c>ldm serve</c>), chosen by the guidance sweep.</summary>
    public const double Guidance = 3.0;

    /// <summary>The noise levels (t/T or α) where <see cref="Guidance"/> applies when none are asked for, chosen by the same sweep.</summary>
    public static (double Low, double High) GuidanceInterval { get; } = (0.1, 0.5);

    /// <summary>The guidance weights <c>ldm reproduce conditional</c> sweeps.</summary>
    public static IReadOnlyList<double> GuidanceSweep { get; } = [0, 1, 1.5, 2, 3, 4];
}
