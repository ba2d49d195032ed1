namespace LatentDiffusion.Data;

/// <summary>A dataset of MNIST layout: 60k/10k (or any size) 28x28 uint8 images with labels 0-9.</summary>
/// <param name="Name">What the checksums identified ("MNIST", "Fashion-MNIST") or "unknown".</param>
/// <param name="Directory">Where the four files were read from.</param>
public sealed record MnistData(string Name, string Directory, MnistSplit Train, MnistSplit Test)
{
    /// <summary>SHA-256 of each file's uncompressed content, by standard file name (without <c>.gz</c>).</summary>
    public IReadOnlyDictionary<string, string> ContentSha256 { get; init; } = new Dictionary<string, string>();
}
