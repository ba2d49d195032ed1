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
    /// <summary>Part 2's autoencoder: the post's model and loss; 25 epochs with a cosine rate from 3e-3.</summary>
    public static Recipe<AutoencoderConfig> Autoencoder { get; } = new("autoencoder", new AutoencoderConfig(),
        TrainingConfig.Part2 with { Epochs = 25, LearningRate = 3e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 200, LogEvery = 5, CheckpointEvery = 1 },
        "the post's model and loss; a cosine-decayed rate reaches in 25 epochs what a constant 1e-3 needs hundreds for");

    /// <summary>Part 2's VAE: the post's model and loss (raw σ, KL weight 1); 25 epochs with a cosine rate from 2e-3.</summary>
    public static Recipe<VaeConfig> Vae { get; } = new("vae", new VaeConfig(),
        TrainingConfig.Part2 with { Epochs = 25, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 200, LogEvery = 5, CheckpointEvery = 1 },
        "the post's model and loss (raw σ, KL weight 1)");

    /// <summary>
    /// Part 3's autoencoder (beyond the post): log-variance VAE with a 1x1 head, 8 latent channels, KL weight 0.01, so
    /// reconstructions are sharp enough for the diffusion model's digits to score well (the post's VAE's own
    /// reconstructions bound any generator in its latent space far above the post's FID).
    /// </summary>
    public static Recipe<VaeConfig> LatentVae { get; } = new("latent-vae",
        new VaeConfig { Sigma = SigmaParameterization.LogVariance, HeadChannels = 32, LatentChannels = 8, KlWeight = 0.01 },
        TrainingConfig.Part2 with { Epochs = 10, LearningRate = 3e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 200, LogEvery = 5, CheckpointEvery = 1 },
        "a small KL weight and more latent channels, as latent-diffusion practice does");
}
