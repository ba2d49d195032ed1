using LatentDiffusion.Models;

namespace LatentDiffusion.IO;

/// <summary>
/// Whether a VAE file decodes the latent space a diffusion model was trained in: the very file the model recorded
/// (<see cref="Diffusion.DiffusionConfig.VaeSha256"/>), or a VAE whose decoder was tuned from it
/// (<see cref="VaeConfig.Tuning"/>), whose encoder — and so every latent — is that file's, bit for bit.
/// </summary>
public static class VaeLineage
{
    /// <summary>How <paramref name="vaePath"/> relates to the VAE of SHA-256 <paramref name="recordedSha"/>.</summary>
    public static VaeRelation Of(string? recordedSha, string vaePath)
    {
        if (recordedSha is null) return VaeRelation.Unrecorded;
        if (string.Equals(ModelWeights.Sha256(vaePath), recordedSha, StringComparison.OrdinalIgnoreCase)) return VaeRelation.Same;
        return string.Equals(TunedFrom(vaePath), recordedSha, StringComparison.OrdinalIgnoreCase) ? VaeRelation.TunedDecoder : VaeRelation.Other;
    }

    /// <summary>True unless the VAE is known to be another latent space than the recorded one.</summary>
    public static bool SharesLatents(string? recordedSha, string vaePath) => Of(recordedSha, vaePath) != VaeRelation.Other;

    /// <summary>
    /// The SHA-256 a diffusion model trained on <paramref name="vaePath"/>'s latents records: the file's own, or for a
    /// tuned decoder its base's — the encoder, and so every latent, is the base's, so a model trained through either
    /// file is the same model and accepts both.
    /// </summary>
    public static string LatentSpaceOf(string vaePath) => TunedFrom(vaePath) ?? ModelWeights.Sha256(vaePath);

    /// <summary>The SHA-256 of the VAE whose decoder <paramref name="vaePath"/> tuned, or null for a trained VAE (or a file that records nothing readable).</summary>
    public static string? TunedFrom(string vaePath)
    {
        try
        {
            (string? architecture, string? settings) = ModelFile.ReadHeader(vaePath);
            if (architecture != nameof(Vae) || settings is null) return null;
            return System.Text.Json.JsonSerializer.Deserialize<VaeConfig>(settings)?.Tuning?.BaseSha256;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or DataFormatException) { return null; }   // no readable record: not a tuned decoder
    }
}

/// <summary>A VAE against the one a diffusion model recorded.</summary>
public enum VaeRelation
{
    /// <summary>The model records no VAE.</summary>
    Unrecorded,
    /// <summary>The recorded file itself.</summary>
    Same,
    /// <summary>A decoder tuned from the recorded VAE: the same encoder and latents.</summary>
    TunedDecoder,
    /// <summary>Another VAE: the model's latents mean something else to it.</summary>
    Other,
}
