using System.Globalization;
using System.Text.Json;

namespace LatentDiffusion.Training;

/// <summary>
/// The files of a training run and the questions asked of them: where things are, what the weights' metadata and
/// config.json record, and whether a directory already holds the finished run a command asks for.
/// </summary>
public static class RunDirectory
{
    public const string ModelFileName = "model.safetensors";
    public const string ConfigFileName = "config.json";

    /// <summary>With an EMA, the raw (last-step) weights are saved beside the averaged ones under this name.</summary>
    public const string RawModelFileName = "model.raw.safetensors";

    /// <summary>X.safetensors → X.raw.safetensors: where the raw weights of an EMA model sit beside it.</summary>
    public static string RawWeightsPath(string weights)
    {
        string name = Path.GetFileName(weights);
        string stem = name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? name[..^".safetensors".Length] : name;
        return Path.Combine(Path.GetDirectoryName(weights) ?? "", stem + ".raw.safetensors");
    }

    /// <summary>
    /// With <see cref="Trainer{TModel}.EmaSweep"/>, each further average is saved as <c>model.ema-{decay}.safetensors</c>
    /// (decay in invariant culture, e.g. <c>model.ema-0.9999.safetensors</c>).
    /// </summary>
    public static string SweepModelFileName(double decay) =>
        "model.ema-" + decay.ToString("R", CultureInfo.InvariantCulture) + ".safetensors";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// config.json: the training config, and for models other than part 1's classifier the architecture and its settings;
    /// with <paramref name="data"/> (a <see cref="Data.DatasetInfo"/> as JSON) also the data it was trained on.
    /// </summary>
    public static string ConfigJson(TrainingConfig config, string architecture, string? settings, string? data = null)
    {
        if (settings is null && data is null) return JsonSerializer.Serialize(config, Indented);   // part 1's layout
        var document = new Dictionary<string, object?> { ["Architecture"] = architecture };
        if (settings is not null) document["Model"] = JsonDocument.Parse(settings).RootElement;
        if (data is not null) document["Data"] = JsonDocument.Parse(data).RootElement;
        document["Training"] = config;
        return JsonSerializer.Serialize(document, Indented);
    }

    /// <summary>
    /// Safetensors metadata of a trained model: part 1's four keys, plus <c>config</c> (the model settings) when there are
    /// any and <c>data</c> (what it was trained on) when known.
    /// </summary>
    public static Dictionary<string, string> Metadata(string architecture, string? settings, TrainingConfig config, string? data = null)
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["architecture"] = architecture,
            ["epochs"] = config.Epochs.ToString(CultureInfo.InvariantCulture),
            ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture),
        };
        if (settings is not null) metadata["config"] = settings;
        if (data is not null) metadata["data"] = data;
        return metadata;
    }

    /// <summary>True when <paramref name="run"/> holds a finished run of the same architecture, settings and config.</summary>
    public static bool IsFinished(string run, TrainingConfig config, string architecture, string? settings)
    {
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        if (!File.Exists(checkpoint) || !File.Exists(Path.Combine(run, ModelFileName))) return false;
        Checkpoint.State state = Checkpoint.ReadState(checkpoint);
        return state.Epoch == config.Epochs && state.Config.Epochs == config.Epochs && config.SameRunAs(state.Config) &&
               (state.Architecture ?? "Classifier") == architecture && state.Settings == settings;
    }
}
