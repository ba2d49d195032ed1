namespace LatentDiffusion.Models;

/// <summary>
/// How a VAE's decoder was tuned after training (<see cref="Training.DecoderTuningTask"/>): the VAE it started from, the
/// classifier whose feature maps the perceptual term compares, and that term's weight. The encoder is the base's, bit
/// for bit, so <see cref="EncoderSha256"/> also names the latent space every generator trained on the base shares.
/// </summary>
public sealed record DecoderTuning
{
    /// <summary>
    /// SHA-256 of the trained VAE whose encoder is kept: the latent space. A decoder tuned again from a tuned file
    /// records that file's base here (and the file in <see cref="FromSha256"/>), so generators of the base accept it.
    /// </summary>
    public required string BaseSha256 { get; init; }

    /// <summary>SHA-256 of the tuned file the decoder started from, when it was not the base itself (null, not written: the base).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? FromSha256 { get; init; }

    /// <summary>SHA-256 of the base's encoder weights alone (<see cref="Training.DecoderTuningTask.EncoderSha256"/>).</summary>
    public required string EncoderSha256 { get; init; }

    /// <summary>SHA-256 of the perceptual classifier's file; it should not be the classifier that scores the FID.</summary>
    public required string ClassifierSha256 { get; init; }

    /// <summary>λ of the perceptual term: loss = ‖x̂ − x‖² + λ·‖φ(x̂) − φ(x)‖², both summed per image.</summary>
    public required double FeatureWeight { get; init; }
}
