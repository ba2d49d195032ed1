using System.Text.Json;
using System.Text.Json.Nodes;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// Writes the guidance weight a class-conditional model samples with by default (<see cref="DiffusionConfig.Guidance"/>)
/// into its file, after a sweep has chosen it: the settings in the safetensors header change, the weights stay bit for
/// bit. A <c>NAME.config.json</c> beside <c>NAME.safetensors</c> (the shipped layout) gets the same field. Both are
/// rewritten whole or not at all.
/// </summary>
public static class RecordedGuidance
{
    /// <summary>Records <paramref name="weight"/> (null: remove the record, back to <see cref="Training.Recipes.Guidance"/>) in <paramref name="path"/>.</summary>
    public static DiffusionConfig Record(string path, double? weight)
    {
        if (weight is double w && Guidance.WeightProblem(w) is { } problem) throw new ArgumentOutOfRangeException(nameof(weight), w, problem);
        (string? architecture, string? settings) = ModelFile.ReadHeader(path);
        if (architecture != nameof(UNet) || settings is null) throw new DataFormatException(path, "not a diffusion model with recorded settings");
        DiffusionConfig config = JsonSerializer.Deserialize<DiffusionConfig>(settings) ?? throw new DataFormatException(path, "empty model settings");
        if (config.UNet.Classes <= 0) throw new DataFormatException(path, "an unconditional model: guidance applies to class-conditional models only");
        DiffusionConfig updated = config with { Guidance = weight };
        string json = JsonSerializer.Serialize(updated);

        (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) = Safetensors.Load(path);   // checks the data's checksum
        try
        {
            metadata["config"] = json;
            metadata.Remove(Safetensors.Sha256Key);                                       // recomputed by Save over the same data
            string side = SideConfig(path);
            JsonNode? sideJson = File.Exists(side) ? JsonNode.Parse(File.ReadAllText(side)) : null;
            Safetensors.Save(path, tensors, metadata);
            if (sideJson?["Model"] is JsonObject)
            {
                sideJson["Model"] = JsonNode.Parse(json);
                AtomicFile.WriteAllText(side, sideJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine);
            }
        }
        finally
        {
            foreach (Tensor t in tensors.Values) t.Dispose();
        }
        return updated;
    }

    /// <summary>NAME.config.json beside NAME.safetensors.</summary>
    static string SideConfig(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + ".config.json");
}
