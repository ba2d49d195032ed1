using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// A models folder for a test server: the shipped DDPM model, latent VAE and classifier (copied), a tiny untrained
/// class-conditional α-deblending model (conditional.safetensors: it makes noise, but it runs every code path of one),
/// a UNet whose latents do not fit the VAE (misfit.safetensors), and a raw twin that must not be listed.
/// </summary>
internal static class ServeModels
{
    public static string Create(TempDirectory dir)
    {
        string models = Path.Combine(dir.Path, "models");
        Directory.CreateDirectory(models);
        foreach (string file in new[] { "diffusion.safetensors", "latent-vae.safetensors", "classifier.safetensors" })
        {
            string shipped = RepositoryPaths.Find("models/" + file) ?? throw new FileNotFoundException("shipped model not found", file);
            File.Copy(shipped, Path.Combine(models, file));
        }
        File.Copy(Path.Combine(models, "diffusion.safetensors"), Path.Combine(models, "diffusion.raw.safetensors"));
        Save(Path.Combine(models, "conditional.safetensors"), new DiffusionConfig
        {
            UNet = new UNetConfig { LatentChannels = 8, Widths = [8, 16], Classes = 10 },
            Objective = DiffusionObjective.AlphaDeblending,
        });
        Save(Path.Combine(models, "misfit.safetensors"), new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] } });
        return models;
    }

    /// <summary>The classes of <see cref="CreateRgb"/>'s set.</summary>
    public static readonly string[] Colours = ["red", "green", "blue"];

    /// <summary>
    /// A tiny untrained model set of another dataset, as <c>ldm pipeline --out</c> publishes one: RGB 64-px images of
    /// three classes (<see cref="Colours"/>), recorded as data called <paramref name="name"/> by all three files — a VAE
    /// with (2, 4, 4) latents, a classifier and a class-conditional α-deblending UNet (conditional.safetensors) — and a
    /// UNet that records gray data, which the VAE does not make (gray.safetensors).
    /// </summary>
    public static string CreateRgb(TempDirectory dir, string name)
    {
        string models = Path.Combine(dir.Path, name);
        Directory.CreateDirectory(models);
        string data = new DatasetInfo(name, "/data/" + name, 3, 64, Colours, new string('0', 64), "folders").ToJson();
        VaeConfig vae = new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2 }.ForResolution(3, 64);
        using (var model = new Vae(vae))
        {
            // The decoder's last 1x1 convolution made nearly constant, red < green < blue: the images are in colour whatever the random init.
            using (TorchSharp.torch.no_grad())
            {
                var (_, weight) = model.named_parameters().Last(p => p.name.StartsWith("decoder", StringComparison.Ordinal) && p.name.EndsWith("weight", StringComparison.Ordinal));
                var (_, bias) = model.named_parameters().Last(p => p.name.StartsWith("decoder", StringComparison.Ordinal) && p.name.EndsWith("bias", StringComparison.Ordinal));
                weight.mul_(0.05);
                bias.copy_(TorchSharp.torch.tensor(new[] { 0.2f, 0.5f, 0.8f }));
            }
            ModelWeights.Save(model, Path.Combine(models, "latent-vae.safetensors"), Metadata(nameof(Vae), JsonSerializer.Serialize(vae), data));
        }
        var classifier = new ClassifierConfig { Channels = 3, Resolution = 64, Classes = Colours.Length };
        using (var model = new Classifier(classifier))
            ModelWeights.Save(model, Path.Combine(models, "classifier.safetensors"), Metadata(nameof(Classifier), classifier.ToSettings(), data));
        Save(Path.Combine(models, "conditional.safetensors"), new DiffusionConfig
        {
            UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16], Classes = Colours.Length },
            Objective = DiffusionObjective.AlphaDeblending,
        }, data);
        string gray = new DatasetInfo("gray", "/data/gray", 1, 64, Colours, new string('0', 64), "folders").ToJson();
        Save(Path.Combine(models, "gray.safetensors"), new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] } }, gray);
        return models;
    }

    static void Save(string path, DiffusionConfig config, string? data = null)
    {
        using var unet = new UNet(config.UNet);
        ModelWeights.Save(unet, path, Metadata(nameof(UNet), JsonSerializer.Serialize(config), data));
    }

    static Dictionary<string, string> Metadata(string architecture, string? settings, string? data)
    {
        var metadata = new Dictionary<string, string> { ["architecture"] = architecture };
        if (settings is not null) metadata["config"] = settings;
        if (data is not null) metadata["data"] = data;
        return metadata;
    }
}
