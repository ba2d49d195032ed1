using System.Text.Json;
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

    static void Save(string path, DiffusionConfig config)
    {
        using var unet = new UNet(config.UNet);
        ModelWeights.Save(unet, path, new Dictionary<string, string> { ["architecture"] = nameof(UNet), ["config"] = JsonSerializer.Serialize(config) });
    }
}
