using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LatentDiffusion.IO;
using LatentDiffusion.Training;

namespace LatentDiffusion.Export.Distributed;

/// <summary>What a distributed bundle trains: one of the models <c>ldm</c> trains with its <see cref="Trainer{TModel}"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BundleKind>))]
public enum BundleKind
{
    /// <summary>Part 1's classifier on MNIST images.</summary>
    Classifier,
    /// <summary>Part 2's VAE (any <see cref="Models.VaeConfig"/>) on MNIST images.</summary>
    Vae,
    /// <summary>Part 3's latent diffusion UNet on MNIST encoded by a VAE.</summary>
    Diffusion,
}

/// <summary>
/// <c>bundle.json</c>, the manifest of a distributed bundle: which model, its settings (the JSON the weights' metadata
/// records, and the same as an object for python/ldm_train_ddp.py), the training config, the data and initial-weights
/// files, and an id that ties a run's checkpoints and results to this bundle. <see cref="Read"/> refuses a file of
/// another format or version in one line.
/// </summary>
public sealed record BundleSpec
{
    /// <summary>The <c>format</c> every bundle.json carries.</summary>
    public const string FormatName = "ldm-distributed-bundle";

    /// <summary>The bundle layout this build writes and reads; python/ldm_train_ddp.py checks the same number.</summary>
    public const int CurrentVersion = 1;

    public const string FileName = "bundle.json";
    public const string DataFileName = "data.safetensors";
    public const string InitialFileName = "initial.safetensors";
    public const string ReadmeFileName = "README.md";

    /// <summary>The folder python/ldm_train_ddp.py writes its checkpoints and results to, inside the bundle.</summary>
    public const string RunFolder = "run";

    [JsonPropertyName("format")] public string Format { get; init; } = FormatName;
    [JsonPropertyName("version")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("kind")] public required BundleKind Kind { get; init; }

    /// <summary>As <see cref="ITrainingTask{TModel}.Architecture"/>.</summary>
    [JsonPropertyName("architecture")] public required string Architecture { get; init; }

    /// <summary>As <see cref="ITrainingTask{TModel}.Settings"/>: the model settings' JSON, null for the classifier.</summary>
    [JsonPropertyName("settings")] public string? Settings { get; init; }

    /// <summary>The same settings as a JSON object (null for the classifier), for the Python side.</summary>
    [JsonPropertyName("model")] public JsonNode? Model { get; init; }

    [JsonPropertyName("training")] public required TrainingConfig Training { get; init; }

    /// <summary>Training examples; with the batch size it fixes the steps per epoch.</summary>
    [JsonPropertyName("train_count")] public required long TrainCount { get; init; }

    [JsonPropertyName("data")] public string Data { get; init; } = DataFileName;
    [JsonPropertyName("initial")] public string Initial { get; init; } = InitialFileName;

    /// <summary>Optimizer steps of the whole run: ⌈N / B⌉ per epoch (the last batch of an epoch may be short).</summary>
    [JsonIgnore]
    public long TotalSteps => (TrainCount + Training.BatchSize - 1) / Training.BatchSize * Training.Epochs;

    // Relaxed escaping keeps the recorded settings readable ("UNet", not \u0022UNet\u0022); the file is never HTML.
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string ToJson() => JsonSerializer.Serialize(this, Indented);

    /// <summary>Reads <paramref name="bundle"/>/bundle.json; a missing, unreadable or foreign file is a <see cref="DataFormatException"/> naming it.</summary>
    public static BundleSpec Read(string bundle)
    {
        string path = Path.Combine(bundle, FileName);
        if (!Directory.Exists(bundle)) throw new DataFormatException(bundle, "no such bundle folder");
        if (!File.Exists(path)) throw new DataFormatException(path, "not found; is this a folder made by ldm distributed prepare?");
        BundleSpec? spec;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            string? format = document.RootElement.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            int version = document.RootElement.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : -1;
            if (format != FormatName) throw new DataFormatException(path, $"not a distributed bundle (format '{format}', expected '{FormatName}')");
            if (version != CurrentVersion)
                throw new DataFormatException(path, $"bundle version {version}; this ldm reads version {CurrentVersion}: prepare the bundle again with this version");
            spec = document.RootElement.Deserialize<BundleSpec>();
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"unreadable ({e.Message})", e);
        }
        if (spec is null || string.IsNullOrEmpty(spec.Id) || !Enum.IsDefined(spec.Kind) || spec.TrainCount <= 0)
            throw new DataFormatException(path, "incomplete manifest (id, kind or train_count missing)");
        try { spec.Training.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new DataFormatException(path, $"training config: {e.Message.Split('\n')[0]}"); }
        return spec;
    }
}
