namespace LatentDiffusion;

/// <summary>The numbers part 3 of the series ("Latent Diffusion Model") and its follow-up report, shown beside ours.</summary>
public static class BlogPart3
{
    /// <summary>FID of the latent diffusion model's samples (the post's table).</summary>
    public const double FidDiffusion = 6.02;

    /// <summary>The follow-up's iterative α-(de)blending: "about 3".</summary>
    public const double FidAlphaDeblending = 3.0;

    /// <summary>T, the schedule's default and the ᾱ plot's range (the post never states the T it trains with).</summary>
    public const int Steps = 1000;

    /// <summary>The loss plot: a point every 10 epochs, the last at epoch 190 ("after a couple hundred epochs").</summary>
    public const int LogEvery = 10, LossLastEpoch = 190;

    /// <summary>
    /// The loss plot's first and last points read by eye: train ≈ 0.2306 → 0.216, validation ≈ 0.225 → 0.2205 (noisy),
    /// the y-axis 0.210–0.231. ε-prediction MSE, averaged over the 4×4 latents of the post's VAE.
    /// </summary>
    public const double TrainLossFirst = 0.2306, TrainLossLast = 0.216, ValLossFirst = 0.225, ValLossLast = 0.2205, LossLow = 0.210, LossHigh = 0.231;
}
