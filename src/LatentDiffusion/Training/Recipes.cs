using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;

namespace LatentDiffusion.Training;

/// <summary>One model's recipe: its settings and its training config.</summary>
public sealed record Recipe<TConfig>(string Name, TConfig Model, TrainingConfig Training, string Why);

/// <summary>
/// The recipes behind the shipped weights in models/, which <c>ldm reproduce … --train</c> runs again. The posts'
/// recipes (<see cref="TrainingConfig.Part2"/>: 400 epochs at a constant rate) stay available through the train
/// commands' options; these fit this project's time budget on 2 CPU cores (README, "Numbers we measured").
/// </summary>
public static class Recipes
{
    /// <summary>
    /// Part 2's autoencoder: the post's model and loss, channels-last, batches of 32, 38 epochs with a cosine rate from
    /// 2e-3 (44 min on one core: test SSE 2.66, below the post's 2.7 from epoch 32 on; the same recipe over 32 epochs
    /// ended at 2.78; batch 128 reached 3.48 in 25 epochs).
    /// </summary>
    public static Recipe<AutoencoderConfig> Autoencoder { get; } = new("autoencoder", new AutoencoderConfig { ChannelsLast = true },
        TrainingConfig.Part2 with { Epochs = 38, BatchSize = 32, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 500, LogEvery = 2, CheckpointEvery = 1 },
        "the post's model and loss; four times the steps per epoch and a cosine-decayed rate reach in 38 epochs what a constant 1e-3 at batch 128 needs hundreds for");

    /// <summary>
    /// Part 2's VAE: the post's model and loss (raw σ, KL weight 1) and its Adam at 1e-3 with batches of 128,
    /// channels-last, for 48 epochs with the rate cosine-decayed to 1 % instead of 400 at a constant rate — 40 minutes on
    /// one core (PyTorch takes 35 for 36 epochs of the post's loop here). Test loss 10.92 + 89.97 = 100.9, samples 150x
    /// Validation (the post: 212x; PyTorch's run of the post's recipe in the same time: ~200x). The post's constant rate
    /// for 44 epochs, the previous shipped VAE, was chaotic to the end: 126.6, samples 242x (README, part 2).
    /// Channels-last is safe for the raw-σ KL (whose encoder gradients are ill-conditioned) since
    /// <see cref="Models.FusedBatchNormLeakyRelu"/>: its float32 gradients are in NCHW's regime (VaeTests).
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
}
