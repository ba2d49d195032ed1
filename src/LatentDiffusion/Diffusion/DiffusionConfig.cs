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

    /// <summary>SHA-256 of the VAE whose latents the model was trained on (informational: sampling with another VAE warns).</summary>
    public string? VaeSha256 { get; init; }

    /// <summary>The latent shape (C, 4, 4) the UNet works on.</summary>
    [JsonIgnore]
    public long[] LatentShape => [UNet.LatentChannels, 4, 4];

    public NoiseSchedule CreateSchedule() => NoiseSchedule.Linear(Steps, BetaStart, BetaEnd);

    public void Validate()
    {
        UNet.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 2);
        if (!(BetaStart > 0 && BetaEnd < 1 && BetaStart < BetaEnd)) throw new ArgumentException("need 0 < β_start < β_end < 1");
        if (!(LatentScale > 0) || double.IsInfinity(LatentScale)) throw new ArgumentOutOfRangeException(nameof(LatentScale), LatentScale, "must be positive");
    }
}
