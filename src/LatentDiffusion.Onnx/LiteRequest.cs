namespace LatentDiffusion.Onnx;

/// <summary>
/// What to generate: how many, from which seed, with which sampler and steps (null: the file's defaults), and for a
/// conditional model the digits and the guidance (null: the defaults the file records).
/// </summary>
public sealed record LiteRequest
{
    public int Count { get; init; } = 16;

    public long Seed { get; init; }

    /// <summary>The library's sampler name (null: the file's <see cref="ModelInfo.DefaultSampler"/>).</summary>
    public string? Sampler { get; init; }

    /// <summary>Steps (null: the sampler's default steps recorded in the file).</summary>
    public int? Steps { get; init; }

    /// <summary>DDIM's η (null: the file's default, 0).</summary>
    public double? Eta { get; init; }

    /// <summary>One label a sample (null: unconditional).</summary>
    public IReadOnlyList<int>? Labels { get; init; }

    /// <summary>Guidance weight w (null: the file's default).</summary>
    public double? Guidance { get; init; }

    /// <summary>Noise levels [low, high] where guidance applies (null: the file's default).</summary>
    public (double Low, double High)? GuidanceInterval { get; init; }

    /// <summary>Latents per network call.</summary>
    public int BatchSize { get; init; } = 1000;
}
