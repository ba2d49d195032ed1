namespace LatentDiffusion.Data;

/// <summary>How a dataset is brought to a model. Defaults: the series' (32 px, channels from the data, strict).</summary>
public sealed record DatasetOptions
{
    /// <summary>Resolutions the models are built for.</summary>
    public static readonly IReadOnlyList<int> Resolutions = [32, 64];

    /// <summary>The model's side S (32 or 64). Default 32.</summary>
    public int Resolution { get; init; } = 32;

    /// <summary>1 or 3 to force gray or RGB; null (default): decided by the data (any colour image makes it RGB).</summary>
    public int? Channels { get; init; }

    /// <summary>Skip (and count) images that cannot be decoded instead of failing on the first. Default false.</summary>
    public bool SkipBad { get; init; }

    /// <summary>For a folder without train/ and test/: the fraction of each class held out for testing. Default 0.1.</summary>
    public double HeldOutFraction { get; init; } = 0.1;

    /// <summary>Seed of that held-out draw. Default 0.</summary>
    public int SplitSeed { get; init; }

    /// <summary>Where IDX sets that are neither shipped nor installed are downloaded to, and from where.</summary>
    public DownloadOptions? Download { get; init; }

    /// <summary>One line saying what is wrong with these options, or null.</summary>
    public string? Problem()
    {
        if (!Resolutions.Contains(Resolution)) return $"resolution must be {string.Join(" or ", Resolutions)} (got {Resolution})";
        if (Channels is not (null or 1 or 3)) return $"channels must be 1 or 3 (got {Channels})";
        if (!(HeldOutFraction > 0 && HeldOutFraction < 1)) return $"the held-out fraction must be in (0, 1) (got {HeldOutFraction})";
        return null;
    }
}
