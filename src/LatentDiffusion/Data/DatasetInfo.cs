using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentDiffusion.Data;

/// <summary>
/// What a model records about the data it was trained on (the weights' <c>data</c> metadata and config.json's
/// <c>Data</c>): enough to refuse data of another shape, or a classifier of another dataset for its FID, in one line
/// naming both.
/// </summary>
/// <param name="Name">"MNIST", "Fashion-MNIST", "unknown" (an unrecognised IDX set) or the folder's name.</param>
/// <param name="Source">Where it was read: a directory.</param>
/// <param name="Channels">1 (gray) or 3 (RGB).</param>
/// <param name="Resolution">The model's side S: images are (C, S, S).</param>
/// <param name="ClassNames">Class i's name; for IDX sets "0".."9" (Fashion-MNIST: its garments' names), for folders the folder names.</param>
/// <param name="ContentSha256">SHA-256 identifying the data's content (<see cref="IDatasetKind"/> says how each kind computes it).</param>
/// <param name="Split">How train and test were told apart (the files, the folders, or the seeded held-out rule).</param>
public sealed record DatasetInfo(string Name, string Source, int Channels, int Resolution, IReadOnlyList<string> ClassNames,
    string ContentSha256, string Split)
{
    static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static DatasetInfo? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<DatasetInfo>(json, Options);

    /// <summary>"MNIST (1x32x32, 10 classes, sha256 ba89104e6505)" for messages.</summary>
    public string Describe() =>
        $"{Name} ({Channels}x{Resolution}x{Resolution}, {ClassNames.Count} classes, sha256 {ContentSha256[..Math.Min(12, ContentSha256.Length)]})";
}

/// <summary>Counts of what a loader met besides the images it kept, for one line of notice.</summary>
/// <param name="Ignored">Files that are not images by name (and hidden files), not opened.</param>
/// <param name="Skipped">Images that could not be decoded, skipped with <see cref="DatasetOptions.SkipBad"/>.</param>
/// <param name="ConvertedToRgb">Gray images replicated to three channels in an RGB set.</param>
/// <param name="LinksNotFollowed">Symbolic links to folders, not walked (so a link loop cannot trap the walk).</param>
public sealed record DatasetReport(int Ignored = 0, int Skipped = 0, int ConvertedToRgb = 0, int LinksNotFollowed = 0)
{
    public override string ToString()
    {
        var parts = new List<string>();
        if (Ignored > 0) parts.Add($"{Ignored} non-image files ignored");
        if (Skipped > 0) parts.Add($"{Skipped} unreadable images skipped (--skip-bad)");
        if (ConvertedToRgb > 0) parts.Add($"{ConvertedToRgb} gray images converted to RGB");
        if (LinksNotFollowed > 0) parts.Add($"{LinksNotFollowed} symbolic links to folders not followed");
        return string.Join("; ", parts);
    }
}

/// <summary>A dataset loaded as bytes at the model's resolution: its description and its two splits.</summary>
public sealed record ImageDataset(DatasetInfo Info, LabelledImages Train, LabelledImages Test, DatasetReport Report)
{
    public int Channels => Info.Channels;
    public int Resolution => Info.Resolution;
    public int Classes => Info.ClassNames.Count;
}
