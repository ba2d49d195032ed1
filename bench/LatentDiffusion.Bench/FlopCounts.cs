namespace LatentDiffusion.Bench;

/// <summary>
/// Forward MFLOP per sample (2 × multiply-adds of the convolutions and linear layers) of the shipped latent models,
/// printed by <c>python3 python/count_flops.py</c> on the PyTorch twins (8 latent channels, as the latent VAE has).
/// </summary>
public static class FlopCounts
{
    public const double UNet32x64 = 2.0070, UNet64x128 = 7.8479, LatentDecoder = 8.3661, Classifier = 1.3482;
}
