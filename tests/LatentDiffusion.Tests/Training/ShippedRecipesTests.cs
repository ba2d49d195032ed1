using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// <c>ldm reproduce --train</c> retrains with <see cref="Recipes"/> and <see cref="Recipes.DiffusionTraining"/>; the
/// shipped models must be what those recipes make, so each models/*.config.json is held to its recipe.
/// </summary>
[Collection("Torch")]
public sealed class ShippedRecipesTests
{
    static string Shipped(string file) => RepositoryPaths.Find(Path.Combine("models", file)) ?? throw new FileNotFoundException(file);

    static void AssertShippedWith<TConfig>(string name, string architecture, Recipe<TConfig> recipe)
    {
        string expected = RunDirectory.ConfigJson(recipe.Training, architecture, JsonSerializer.Serialize(recipe.Model));
        Assert.Equal(expected, File.ReadAllText(Shipped($"{name}.config.json")).TrimEnd());
    }

    [Fact]
    public void Autoencoder_IsTheRecipes() => AssertShippedWith("autoencoder", nameof(ConvAutoencoder), Recipes.Autoencoder);

    [Fact]
    public void Vae_IsTheRecipes() => AssertShippedWith("vae", nameof(Vae), Recipes.Vae);

    [Fact]
    public void LatentVae_IsTheRecipes() => AssertShippedWith("latent-vae-base", nameof(Vae), Recipes.LatentVae);

    /// <summary>
    /// models/fashion-mnist: the latent VAE is <see cref="Recipes.LatentVae8"/> (4 x 8 x 8 latents) on Fashion-MNIST, and
    /// the conditional generator <see cref="Recipes.ConditionalModel"/> trained by <see cref="Recipes.ConditionalTrainingAt"/>(8)
    /// on its latents, recording the side.
    /// </summary>
    [Fact]
    public void FashionMnist_IsTheEightByEightRecipes()
    {
        using JsonDocument vae = JsonDocument.Parse(File.ReadAllText(Shipped("fashion-mnist/latent-vae-base.config.json")));
        Assert.Equal(Recipes.LatentVae8.Training, vae.RootElement.GetProperty("Training").Deserialize<TrainingConfig>());
        Assert.Equal(Recipes.LatentVae8.Model, vae.RootElement.GetProperty("Model").Deserialize<VaeConfig>());
        Assert.Equal("Fashion-MNIST", vae.RootElement.GetProperty("Data").GetProperty("Name").GetString());

        using JsonDocument shipped = JsonDocument.Parse(File.ReadAllText(Shipped("fashion-mnist/conditional.config.json")));
        Assert.Equal(Recipes.ConditionalTrainingAt(8), shipped.RootElement.GetProperty("Training").Deserialize<TrainingConfig>());
        var model = shipped.RootElement.GetProperty("Model").Deserialize<LatentDiffusion.Diffusion.DiffusionConfig>()!;
        Assert.Equal([4L, 8, 8], model.LatentShape);
        Assert.Equal(Recipes.ConditionalModel(model, 10), model);
        Assert.Equal(ModelWeights.Sha256(Shipped("fashion-mnist/latent-vae-base.safetensors")), model.VaeSha256);
    }

    /// <summary>The perceptual classifier the shipped MNIST decoder was tuned against: <see cref="Recipes.PerceptualClassifier"/>.</summary>
    [Fact]
    public void PerceptualClassifier_IsTheRecipe()
    {
        using JsonDocument shipped = JsonDocument.Parse(File.ReadAllText(Shipped("perceptual-classifier.config.json")));
        Assert.Equal(Recipes.PerceptualClassifier, shipped.RootElement.GetProperty("Training").Deserialize<TrainingConfig>());
    }

    [Fact]
    public void Diffusion_IsTheRecipes()
    {
        using JsonDocument shipped = JsonDocument.Parse(File.ReadAllText(Shipped("diffusion.config.json")));
        var training = shipped.RootElement.GetProperty("Training").Deserialize<TrainingConfig>()!;
        Assert.Equal(Recipes.DiffusionTraining, training);
        var unet = shipped.RootElement.GetProperty("Model").GetProperty("UNet").Deserialize<UNetConfig>()!;
        Assert.Equal(Recipes.DiffusionUNet(unet.LatentChannels), unet);
        using JsonDocument latent = JsonDocument.Parse(File.ReadAllText(Shipped("latent-vae-base.config.json")));
        Assert.Equal(latent.RootElement.GetProperty("Model").GetProperty("LatentChannels").GetInt32(), unet.LatentChannels);
        Assert.Equal(ModelWeights.Sha256(Shipped("latent-vae-base.safetensors")), shipped.RootElement.GetProperty("Model").GetProperty("VaeSha256").GetString());
    }

    /// <summary>The α-deblending models and the conditional one: part 3's UNet (the wide one at twice its widths) and training (the conditional one cut to 100 epochs), on the latents of the shipped latent VAE (its base: the same encoder).</summary>
    [Theory]
    [InlineData("alpha-deblending")]
    [InlineData("alpha-deblending-wide")]
    [InlineData("conditional")]
    public void BeyondPart3Models_AreTheirRecipes(string name)
    {
        using JsonDocument shipped = JsonDocument.Parse(File.ReadAllText(Shipped($"{name}.config.json")));
        var training = shipped.RootElement.GetProperty("Training").Deserialize<TrainingConfig>()!;
        var model = shipped.RootElement.GetProperty("Model").Deserialize<LatentDiffusion.Diffusion.DiffusionConfig>()!;
        var ddpm = JsonDocument.Parse(File.ReadAllText(Shipped("diffusion.config.json"))).RootElement.GetProperty("Model").Deserialize<LatentDiffusion.Diffusion.DiffusionConfig>()!;
        var expected = name switch
        {
            "conditional" => Recipes.ConditionalModel(ddpm),
            "alpha-deblending-wide" => ddpm with { Objective = LatentDiffusion.Diffusion.DiffusionObjective.AlphaDeblending, UNet = Recipes.WideUNet(ddpm.UNet.LatentChannels) },
            _ => ddpm with { Objective = LatentDiffusion.Diffusion.DiffusionObjective.AlphaDeblending },
        };
        Assert.Equal(name == "conditional" ? Recipes.ConditionalTraining : Recipes.DiffusionTraining, training);
        Assert.Equal(expected, model);
        Assert.Equal(1000, model.AlphaScale);
        Assert.Equal(ModelWeights.Sha256(Shipped("latent-vae-base.safetensors")), model.VaeSha256);
        Assert.Equal(model.VaeSha256, VaeLineage.LatentSpaceOf(Shipped("latent-vae.safetensors")));
    }
    /// <summary>
    /// The sharp decoders (models/latent-vae, models/fashion-mnist/latent-vae): <see cref="Recipes.DecoderTuning"/>
    /// at the default weight, from the shipped base VAE (whose encoder they keep bit for bit) against the shipped
    /// perceptual classifier — not the FID's.
    /// </summary>
    [Theory]
    [InlineData("latent-vae", "latent-vae-base", "perceptual-classifier", "classifier")]
    [InlineData("fashion-mnist/latent-vae-narrow", "fashion-mnist/latent-vae-base", "fashion-mnist/perceptual-classifier", "fashion-mnist/classifier")]
    public void SharpDecoders_AreTheTuningRecipe_FromTheShippedBase(string name, string? basis, string perceptual, string fid)
    {
        using JsonDocument shipped = JsonDocument.Parse(File.ReadAllText(Shipped($"{name}.config.json")));
        Assert.Equal(Recipes.DecoderTuning, shipped.RootElement.GetProperty("Training").Deserialize<TrainingConfig>());
        using Vae tuned = ModelFile.LoadVae(Shipped($"{name}.safetensors"));
        DecoderTuning tuning = tuned.Config.Tuning ?? throw new Xunit.Sdk.XunitException($"{name} records no tuning");
        Assert.Equal(Recipes.DecoderFeatureWeight, tuning.FeatureWeight);
        Assert.Equal(tuning.EncoderSha256, DecoderTuningTask.EncoderSha256(tuned));
        Assert.Equal(ModelWeights.Sha256(Shipped($"{perceptual}.safetensors")), tuning.ClassifierSha256);
        Assert.NotEqual(ModelWeights.Sha256(Shipped($"{fid}.safetensors")), tuning.ClassifierSha256);
        if (basis is not null) Assert.Equal(ModelWeights.Sha256(Shipped($"{basis}.safetensors")), tuning.BaseSha256);
        string generator = name.StartsWith("fashion-mnist/", StringComparison.Ordinal) ? "fashion-mnist/conditional" : "alpha-deblending-wide";
        (UNet net, LatentDiffusion.Diffusion.DiffusionConfig config) = ModelFile.LoadDiffusion(Shipped($"{generator}.safetensors"));
        net.Dispose();
        Assert.Equal(VaeRelation.TunedDecoder, VaeLineage.Of(config.VaeSha256, Shipped($"{name}.safetensors")));
    }

    /// <summary>
    /// Fashion-MNIST's shipped decoder: the narrow tuned decoder (models/fashion-mnist/latent-vae-narrow) widened
    /// <see cref="Recipes.WideDecoderWidth"/> times and tuned by <see cref="Recipes.WideDecoderTuning"/>; its latent
    /// space is still the base's, so the shipped generator samples through it unwarned.
    /// </summary>
    [Fact]
    public void FashionsDecoder_IsTheNarrowTunedDecoderWidened_InTheBasesLatentSpace()
    {
        using JsonDocument shipped = JsonDocument.Parse(File.ReadAllText(Shipped("fashion-mnist/latent-vae.config.json")));
        Assert.Equal(Recipes.WideDecoderTuning, shipped.RootElement.GetProperty("Training").Deserialize<TrainingConfig>());
        using Vae wide = ModelFile.LoadVae(Shipped("fashion-mnist/latent-vae.safetensors"));
        using Vae narrow = ModelFile.LoadVae(Shipped("fashion-mnist/latent-vae-narrow.safetensors"));
        Assert.Equal(Recipes.WideDecoderWidth, wide.Config.DecoderWidth);
        DecoderTuning tuning = wide.Config.Tuning!;
        Assert.Equal(ModelWeights.Sha256(Shipped("fashion-mnist/latent-vae-base.safetensors")), tuning.BaseSha256);
        Assert.Equal(ModelWeights.Sha256(Shipped("fashion-mnist/latent-vae-narrow.safetensors")), tuning.FromSha256);
        Assert.Equal(Recipes.DecoderFeatureWeight, tuning.FeatureWeight);
        Assert.Equal(narrow.Config.Tuning!.ClassifierSha256, tuning.ClassifierSha256);
        Assert.Equal(DecoderTuningTask.EncoderSha256(narrow), DecoderTuningTask.EncoderSha256(wide));
        (UNet net, LatentDiffusion.Diffusion.DiffusionConfig config) = ModelFile.LoadDiffusion(Shipped("fashion-mnist/conditional.safetensors"));
        net.Dispose();
        Assert.Equal(VaeRelation.TunedDecoder, VaeLineage.Of(config.VaeSha256, Shipped("fashion-mnist/latent-vae.safetensors")));
    }
}
