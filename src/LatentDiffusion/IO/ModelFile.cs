using System.Text.Json;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.IO;

/// <summary>
/// Loads part 2's models from a weights file whose safetensors metadata records the architecture and its settings
/// (<c>architecture</c>, <c>config</c>, as <see cref="Training.RunDirectory.Metadata"/> writes them). A PyTorch
/// <c>.pt</c> has no metadata: it is read as the post's configuration. A file of another architecture, or weights that do
/// not fit the recorded settings, is a <see cref="DataFormatException"/> naming the file and what differs.
/// </summary>
public static class ModelFile
{
    /// <summary>The architecture and settings (JSON) recorded in <paramref name="path"/>, or (null, null) for a file without them.</summary>
    public static (string? Architecture, string? Settings) ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        if (ModelWeights.IsPyTorchFile(path)) return (null, null);
        (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) = Safetensors.Load(path);
        foreach (Tensor t in tensors.Values) t.Dispose();
        return (metadata.GetValueOrDefault("architecture"), metadata.GetValueOrDefault("config"));
    }

    public static Vae LoadVae(string path)
    {
        VaeConfig config = Settings<VaeConfig>(path, nameof(Vae)) ?? new VaeConfig();
        var vae = new Vae(config);
        Load(vae, path);
        return vae;
    }

    public static ConvAutoencoder LoadAutoencoder(string path)
    {
        AutoencoderConfig config = Settings<AutoencoderConfig>(path, nameof(ConvAutoencoder)) ?? new AutoencoderConfig();
        var ae = new ConvAutoencoder(config);
        Load(ae, path);
        return ae;
    }

    static void Load(nn.Module module, string path)
    {
        try
        {
            ModelWeights.Load(module, path);
            module.eval();
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    static T? Settings<T>(string path, string architecture) where T : class
    {
        (string? recorded, string? settings) = ReadHeader(path);
        if (recorded is not null && recorded != architecture)
            throw new DataFormatException(path, $"holds a {recorded}, not a {architecture}");
        if (settings is null) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(settings) ?? throw new DataFormatException(path, "empty model settings");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"unreadable model settings ({e.Message})", e);
        }
    }
}
