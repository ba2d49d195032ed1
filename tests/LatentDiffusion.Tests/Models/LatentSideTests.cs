using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Models;

/// <summary>
/// Latents of another side than 4: a VAE with one level fewer gives 8x8, the UNet config records the side only when it
/// is not 4 (so every config written before stays byte for byte), and the networks run at it.
/// </summary>
[Collection("Torch")]
public sealed class LatentSideTests
{
    [Fact]
    public void VaeForLatentSide_DropsTheNarrowestLevels_AndTheVaeEncodesAndDecodesAtThatSide()
    {
        VaeConfig series = Recipes.LatentVae.Model;
        Assert.Equal(4, series.LatentSide);
        Assert.Same(series, series.ForLatentSide(4));
        VaeConfig side8 = series.ForLatentSide(8);
        Assert.Equal([1, 16, 32], side8.Features);
        Assert.Equal(8, side8.LatentSide);
        Assert.Equal([1, 4, 8, 16, 32], series.ForLatentSide(2).Features);   // one level more: half the first width prepended
        Assert.Equal([3, 16, 32, 64], side8.ForResolution(3, 64).Features);     // 64 px keeps the latent side
        Assert.Equal(8, side8.ForResolution(3, 64).LatentSide);

        VaeConfig recipe8 = Recipes.LatentVaeAt(8).Model;
        Assert.Equal((4, 8), (recipe8.LatentChannels, recipe8.LatentSide));
        Assert.Same(Recipes.LatentVae, Recipes.LatentVaeAt(4));
        Assert.Equal(Recipes.ConditionalTraining, Recipes.ConditionalTrainingAt(4));
        Assert.Equal(40, Recipes.ConditionalTrainingAt(8).Epochs);
        Assert.Equal(Recipes.DiffusionUNet(8), Recipes.ConditionalUNetAt(4, 8));
        Assert.Equal(Recipes.WideUNet(4) with { LatentSide = 8 }, Recipes.ConditionalUNetAt(8, 4));

        using var vae = new Vae(recipe8);
        vae.eval();
        Assert.Equal([4L, 8, 8], vae.LatentShape);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = rand(3, 1, 32, 32);
        var (mu, _) = vae.Encode(x);
        Assert.Equal([3L, 4, 8, 8], mu.shape);
        Assert.Equal([3L, 1, 32, 32], vae.Decode(mu).shape);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(32)]
    [InlineData(0)]
    public void VaeForLatentSide_NotAHalvingOfTheImageSide_IsRefusedNamingTheSetting(int side)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Recipes.LatentVae.Model.ForLatentSide(side));
        Assert.Equal(nameof(VaeConfig.LatentSide), e.ParamName);
        Assert.Contains("halved one or more times", e.Message);
    }

    [Fact]
    public void UNetConfig_RecordsTheSideOnlyWhenNotFour_AndTheUNetRunsAtIt()
    {
        var four = new UNetConfig { LatentChannels = 8 };
        Assert.DoesNotContain("LatentSide", JsonSerializer.Serialize(four));
        Assert.Equal(four, four.ForLatentSide(4));
        Assert.Null(four.ForLatentSide(4).LatentSide);
        UNetConfig eight = four.ForLatentSide(8);
        Assert.NotEqual(four, eight);
        Assert.Equal(eight, JsonSerializer.Deserialize<UNetConfig>(JsonSerializer.Serialize(eight)));
        Assert.Equal([8L, 8, 8], new DiffusionConfig { UNet = eight }.LatentShape);
        Assert.Equal([8L, 4, 4], new DiffusionConfig { UNet = four }.LatentShape);
        Assert.Throws<ArgumentOutOfRangeException>(() => (four with { LatentSide = 6 }).Validate());

        using var unet = new UNet(eight with { Widths = [8, 16] });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor y = unet.forward(randn(2, 8, 8, 8), tensor(new float[] { 10, 500 }));
        Assert.Equal([2L, 8, 8, 8], y.shape);
    }
}
