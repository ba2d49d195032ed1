using System.Text.Json;
using System.Text.Json.Nodes;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Cli;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>
/// A class-conditional model's recorded guidance: written into the file's settings and its NAME.config.json with the
/// weights unchanged, read back as the model's default, refused for an unconditional model or a bad weight.
/// </summary>
[Collection("Torch")]
public sealed class RecordedGuidanceTests
{
    static readonly DiffusionConfig Conditional = new()
    {
        Objective = DiffusionObjective.AlphaDeblending, UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16], Classes = 3 },
    };

    static string Save(TempDirectory dir, string name, DiffusionConfig config)
    {
        string path = dir.File(name + ".safetensors");
        manual_seed(5);
        using var unet = new UNet(config.UNet);
        string settings = JsonSerializer.Serialize(config);
        ModelWeights.Save(unet, path, new Dictionary<string, string> { ["architecture"] = nameof(UNet), ["config"] = settings, ["data"] = "{\"Name\":\"x\"}" });
        File.WriteAllText(dir.File(name + ".config.json"), new JsonObject { ["Architecture"] = "UNet", ["Model"] = JsonNode.Parse(settings) }.ToJsonString());
        return path;
    }

    [Fact]
    public void Record_ChangesTheDefaultAndTheSideConfig_KeepsTheWeightsAndTheRestOfTheHeader()
    {
        using var dir = new TempDirectory();
        string path = Save(dir, "conditional", Conditional);
        Assert.Equal(LatentDiffusion.Training.Recipes.Guidance, ModelFile.LoadDiffusion(path).Config.DefaultGuidance);
        var before = Safetensors.Load(path);

        Assert.Equal(4.0, RecordedGuidance.Record(path, 4.0).DefaultGuidance);
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(path);
        unet.Dispose();
        Assert.Equal(4.0, config.Guidance);
        Assert.Equal(Conditional with { Guidance = 4.0 }, config);
        var after = Safetensors.Load(path);
        foreach (var (name, t) in before.Tensors) Assert.True(t.equal(after.Tensors[name]).all().item<bool>(), $"{name} changed");
        Assert.Equal(before.Metadata["data"], after.Metadata["data"]);
        Assert.Equal(4.0, JsonNode.Parse(File.ReadAllText(dir.File("conditional.config.json")))!["Model"]!["Guidance"]!.GetValue<double>());
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));

        RecordedGuidance.Record(path, null);                                 // cleared: the shipped default, nothing written
        Assert.Null(ModelFile.LoadDiffusion(path).Config.Guidance);
        Assert.DoesNotContain("Guidance", Safetensors.ReadMetadata(path)["config"]);
    }

    [Fact]
    public void Record_AnUnconditionalModelOrABadWeight_IsRefusedAndChangesNothing()
    {
        using var dir = new TempDirectory();
        string unconditional = Save(dir, "plain", Conditional with { UNet = Conditional.UNet with { Classes = 0 } });
        byte[] bytes = File.ReadAllBytes(unconditional);
        var e = Assert.Throws<DataFormatException>(() => RecordedGuidance.Record(unconditional, 3));
        Assert.Contains("plain.safetensors", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(unconditional));
        string conditional = Save(dir, "conditional", Conditional);
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordedGuidance.Record(conditional, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordedGuidance.Record(conditional, -1));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void SetGuidanceCommand_RecordsIt_AndBadInputIsOneLine()
    {
        using var dir = new TempDirectory();
        string path = Save(dir, "conditional", Conditional);
        var r = LdmProcess.Run(["diffusion", "set-guidance", "--model", path, "--guidance", "4"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("guidance 4 by default", r.Stdout);
        Assert.Equal(4.0, ModelFile.LoadDiffusion(path).Config.Guidance);
        LdmProcess.AssertOneLineError(LdmProcess.Run(["diffusion", "set-guidance", "--model", path]), 2, "--guidance");
        LdmProcess.AssertOneLineError(LdmProcess.Run(["diffusion", "set-guidance", "--model", path, "--guidance", "99"]), 2, "--guidance");
        string plain = Save(dir, "plain", Conditional with { UNet = Conditional.UNet with { Classes = 0 } });
        LdmProcess.AssertOneLineError(LdmProcess.Run(["diffusion", "set-guidance", "--model", plain, "--guidance", "2"]), 1, "plain.safetensors");
        Assert.Equal(0, LdmProcess.Run(["diffusion", "set-guidance", "--model", path, "--clear"]).ExitCode);
        Assert.Null(ModelFile.LoadDiffusion(path).Config.Guidance);
    }
}
