using System.Text.Json;
using System.Text.Json.Serialization;

namespace LatentDiffusion.Models;

/// <summary>
/// The classifier's input and output: part 1's network for <see cref="Channels"/> input channels, images of
/// <see cref="Resolution"/> px and <see cref="Classes"/> classes. Defaults are part 1's (1, 32, 10), which records no
/// settings at all, so part 1's weights and files are unchanged; a classifier of another shape records this as JSON.
/// </summary>
public sealed record ClassifierConfig
{
    public static ClassifierConfig Part1 { get; } = new();

    /// <summary>Input channels: 1 (gray) or 3 (RGB). Part 1: 1.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Image side: 32, or 64 with one more 2x2 max pool after the second (so the third conv still sees 8x8 and the features stay 128-d). Part 1: 32.</summary>
    public int Resolution { get; init; } = 32;

    /// <summary>Number of classes (logits). Part 1: 10.</summary>
    public int Classes { get; init; } = 10;

    [JsonIgnore]
    public bool IsPart1 => this == Part1;

    /// <summary>The settings a weights file records: null for part 1's shape (as part 1 recorded none), else this as JSON.</summary>
    public string? ToSettings() => IsPart1 ? null : JsonSerializer.Serialize(this);

    public void Validate()
    {
        if (Channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "1 or 3 channels");
        if (Resolution is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(Resolution), Resolution, "32 or 64 px");
        ArgumentOutOfRangeException.ThrowIfLessThan(Classes, 2);
    }

    /// <summary>"1x32x32, 10 classes" for messages.</summary>
    public string Describe() => $"{Channels}x{Resolution}x{Resolution}, {Classes} classes";
}
