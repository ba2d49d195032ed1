using LatentDiffusion.Export.Onnx;
using LatentDiffusion.Onnx;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>
/// <see cref="LiteGenerator"/> and <see cref="OnnxNetwork"/> on good and bad files: digits of the right shape from the
/// exported folder; a folder without the manifest, a file of another kind, a file that is no ONNX, an ONNX file without
/// ldm's metadata, and requests that cannot work are each one line naming the file or the problem.
/// </summary>
[Collection("Torch")]
public sealed class LiteGeneratorTests(ExportedModels exported) : IClassFixture<ExportedModels>
{
    [Fact]
    public void Generate_FromTheExportedFolder_GivesImagesInTheUnitInterval()
    {
        using LiteGenerator lite = LiteGenerator.OpenFolder(exported.Directory, "conditional");
        float[] images = lite.Generate(new LiteRequest { Count = 4, Labels = [1, 2, 3, 4], Steps = 4, BatchSize = 3 });
        Assert.Equal(4 * 32 * 32, images.Length);
        Assert.All(images, v => Assert.InRange(v, 0f, 1f));
        Assert.Contains(images, v => v > 0.5f);                                     // something was drawn
    }

    [Fact]
    public void Generate_SameSeed_SameDigits()
    {
        using LiteGenerator lite = LiteGenerator.OpenFolder(exported.Directory, "alpha-deblending");
        var request = new LiteRequest { Count = 3, Steps = 3, Seed = 5 };
        Assert.Equal(lite.Generate(request), lite.Generate(request));
        Assert.NotEqual(lite.Generate(request), lite.Generate(request with { Seed = 6 }));
    }

    [Fact]
    public void OpenFolder_WithoutManifest_IsOneLineNamingTheFolder()
    {
        using var dir = new TempDirectory();
        File.Copy(exported.File("conditional.onnx"), dir.File("conditional.onnx"));
        var e = Assert.Throws<OnnxModelException>(() => LiteGenerator.OpenFolder(dir.Path, "conditional"));
        Assert.Equal($"{dir.Path}: has no {LiteGenerator.ManifestFile}: not a folder written by ldm export --onnx", e.Message);
    }

    [Fact]
    public void Open_FileOfAnotherKind_SaysWhatItHolds()
    {
        string decoder = exported.File("latent-vae.decoder.onnx");
        var e = Assert.Throws<OnnxModelException>(() => LiteGenerator.Open(decoder, decoder));
        Assert.Equal($"{decoder}: holds a vae-decoder, not a unet", e.Message);
    }

    [Fact]
    public void Open_NotOnnx_IsOneLineNamingTheFile()
    {
        using var dir = new TempDirectory();
        string junk = dir.File("junk.onnx");
        File.WriteAllBytes(junk, [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37))]);
        var e = Assert.Throws<OnnxModelException>(() => OnnxNetwork.Open(junk, null));
        Assert.StartsWith($"{junk}: not a loadable ONNX model", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Open_OnnxWithoutLdmMetadata_SaysHowToMakeOne()
    {
        using var dir = new TempDirectory();
        string plain = dir.File("plain.onnx");
        var g = new OnnxGraph("plain");
        string x = g.Input("x", OnnxType.Float, null, 2);
        g.Output(g.Node("Relu", [x], "y"), OnnxType.Float, null, 2);
        File.WriteAllBytes(plain, g.ToBytes());
        var e = Assert.Throws<OnnxModelException>(() => OnnxNetwork.Open(plain, ModelInfo.UNetKind));
        Assert.Equal($"{plain}: has no ldm metadata (ldm.kind, ldm.model): export it with ldm export --onnx", e.Message);
    }

    [Fact]
    public void Open_MissingFile_IsOneLine()
    {
        string missing = exported.File("nothing.onnx");
        var e = Assert.Throws<OnnxModelException>(() => OnnxNetwork.Open(missing, null));
        Assert.Equal($"{missing}: file not found", e.Message);
    }

    [Theory]
    [InlineData("ddim", null, "the ddim sampler does not fit")]
    [InlineData("iadb", 0, "steps must be at least 1")]
    [InlineData("dpmpp2m", null, "does not fit")]
    public void Problem_SamplerOrStepsThatCannotWork_SaysSo(string sampler, int? steps, string expected)
    {
        using LiteGenerator lite = LiteGenerator.OpenFolder(exported.Directory, "conditional");
        Assert.Contains(expected, lite.Problem(new LiteRequest { Sampler = sampler, Steps = steps }));
    }

    [Fact]
    public void Problem_DigitFromUnconditionalModel_SaysItIsUnconditional()
    {
        using LiteGenerator lite = LiteGenerator.OpenFolder(exported.Directory, "diffusion");
        Assert.Contains("unconditional", lite.Problem(new LiteRequest { Count = 1, Labels = [7] }));
        Assert.Contains("ddpm", lite.Problem(new LiteRequest { Sampler = "ddpm" }));   // listed by the library, not run here
        Assert.Null(lite.Problem(new LiteRequest { Sampler = "ddim", Steps = 10, Eta = 0.5 }));
    }
}
