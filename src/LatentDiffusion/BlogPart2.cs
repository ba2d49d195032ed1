namespace LatentDiffusion;

/// <summary>
/// What Nick Tasios' "Latent Diffusion Series: Variational Autoencoder (VAE)" (part 2) states, shown beside ours. The
/// post gives no FID, no VAE loss value, no VAE parameter count and no training time.
/// </summary>
public static class BlogPart2
{
    /// <summary>Parameters of the post's autoencoder (the same as <see cref="Models.ConvAutoencoder.ExpectedParameterCount"/>).</summary>
    public const long AutoencoderParameterCount = Models.ConvAutoencoder.ExpectedParameterCount;

    /// <summary>The autoencoder's training: 400 epochs, batch 128, Adam at 1e-3, validated every 10 epochs.</summary>
    public const int Epochs = 400;

    public const int BatchSize = 128;

    public const double LearningRate = 1e-3;

    public const int LogEvery = 10;

    /// <summary>
    /// The autoencoder's loss plot (summed squared error per image, points every 10 epochs from 0 to 390) read by eye:
    /// train from about 6.7 to 2.6, validation from about 6.5 to 2.7. Approximate; the plot has no readable axis labels.
    /// </summary>
    public const double AutoencoderTrainLossFirst = 6.7, AutoencoderValLossFirst = 6.5, AutoencoderTrainLossLast = 2.6, AutoencoderValLossLast = 2.7;

    /// <summary>The VAE's FID, reported in part 3 against Random 48.43 and Validation 0.30 (<see cref="BlogPart1"/>).</summary>
    public const double FidVae = 63.49;
}
