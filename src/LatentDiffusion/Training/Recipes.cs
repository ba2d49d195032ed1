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
    /// Part 2's VAE: the post's model, loss (raw σ, KL weight 1) and recipe (Adam at a constant 1e-3, batches of 128),
    /// channels-last, for 44 epochs instead of 400 — 37 minutes on one core, about what PyTorch takes here for 36 epochs
    /// of the post's loop (35 min). Channels-last is safe for the raw-σ KL (whose encoder gradients are ill-conditioned)
    /// since <see cref="Models.FusedBatchNormLeakyRelu"/>: its float32 gradients are in NCHW's regime, where libtorch's
    /// channels-last BatchNorm was ~100 % off (VaeTests). The previous shipped VAE was this recipe in NCHW for 36 epochs
    /// (50 min): lower loss (108.0 against 126.5) but samples at 400x Validation against 242x (README, part 2).
    /// </summary>
    public static Recipe<VaeConfig> Vae { get; } = new("vae", new VaeConfig { ChannelsLast = true },
        TrainingConfig.Part2 with { Epochs = 44, LogEvery = 4, CheckpointEvery = 1 },
        "the post's model, loss and recipe (raw σ, KL weight 1, constant 1e-3), channels-last, 44 epochs");

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
