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
        Dictionary<string, string> metadata = Safetensors.ReadMetadata(path);
        return (metadata.GetValueOrDefault("architecture"), metadata.GetValueOrDefault("config"));
    }

    /// <summary>A classifier, in eval mode: part 1's shape when the file records no settings, else the recorded <see cref="ClassifierConfig"/>.</summary>
    public static Classifier LoadClassifier(string path)
    {
        ClassifierConfig config = Settings<ClassifierConfig>(path, nameof(Classifier)) ?? ClassifierConfig.Part1;
        var classifier = new Classifier(config);
        Load(classifier, path);
        return classifier;
    }

    /// <summary>The data a model file says it was trained on (its <c>data</c> metadata), or null (a file from before datasets were recorded, or a .pt).</summary>
    public static Data.DatasetInfo? ReadData(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        if (ModelWeights.IsPyTorchFile(path)) return null;
        Dictionary<string, string> metadata = Safetensors.ReadMetadata(path);
        try
        {
            return Data.DatasetInfo.FromJson(metadata.GetValueOrDefault("data"));
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"unreadable data record ({e.Message})", e);
        }
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

    /// <summary>A latent diffusion model: the UNet and the settings it was trained with (a .pt gets the defaults).</summary>
    public static (UNet Model, Diffusion.DiffusionConfig Config) LoadDiffusion(string path)
    {
        Diffusion.DiffusionConfig config = Settings<Diffusion.DiffusionConfig>(path, nameof(UNet)) ?? new Diffusion.DiffusionConfig();
        var unet = new UNet(config.UNet);
        Load(unet, path);
        return (unet, config);
    }

    /// <summary>
    /// Checks that <paramref name="config"/>'s UNet works on <paramref name="vae"/>'s latents; a mismatch is one line
    /// naming both files and both shapes.
    /// </summary>
    public static void RequireFits(Diffusion.DiffusionConfig config, string diffusionPath, Vae vae, string vaePath)
    {
        long[] want = config.LatentShape, have = vae.LatentShape;
        if (!want.SequenceEqual(have))
            throw new DataFormatException(diffusionPath,
                $"the UNet works on latents of shape ({string.Join(", ", want)}) but the VAE {vaePath} makes ({string.Join(", ", have)}); use the VAE the model was trained with");
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
