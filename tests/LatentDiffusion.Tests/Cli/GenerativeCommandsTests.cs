using System.Text.Json;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// <c>ldm vae|autoencoder|diffusion</c> through the real executable, on the PyTorch fixture weights and tiny synthetic
/// data: outputs land where asked, bad input is one line with the right exit code, JSON is the last line.
/// </summary>
[Collection("Torch")]
public sealed class GenerativeCommandsTests
{
    static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-vae", file);

    static void AssertOneLineError(LdmProcess.Result r, int exitCode, string contains)
    {
        Assert.Equal(exitCode, r.ExitCode);
        Assert.Contains(contains, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ldm:"));
    }

    [Fact]
    public void VaeSample_WritesAFolderAGridAndAnArray_WithJsonLast()
    {
        using var dir = new TempDirectory();
        var r = LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "12", "--seed", "4", "--out", dir.File("digits"), "--json"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(12, Directory.GetFiles(dir.File("digits"), "*.png").Length);
        using var json = JsonDocument.Parse(r.Stdout.TrimEnd().Split('\n')[^1]);
        Assert.Equal(12, json.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(0, LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "32", "--out", dir.File("grid.png")]).ExitCode);
        Assert.Equal(0, LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "3", "--out", dir.File("x.npz")]).ExitCode);
        Assert.True(File.Exists(dir.File("grid.png")) && File.Exists(dir.File("x.npz")));
        // The same seed gives the same digits.
        Assert.Equal(0, LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "12", "--seed", "4", "--out", dir.File("again")]).ExitCode);
        foreach (string f in Directory.GetFiles(dir.File("digits")))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(dir.File("again"), Path.GetFileName(f))));
    }

    [Fact]
    public void Sample_ZeroOrNegativeCount_IsAUsageError()
    {
        using var dir = new TempDirectory();
        AssertOneLineError(LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "0", "--out", dir.File("a.png")]), 2, "-n");
        AssertOneLineError(LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "-3", "--out", dir.File("a.png")]), 2, "-n");
        Assert.Empty(dir.FileNames());
    }

    [Fact]
    public void WeightsOfAnotherArchitecture_AreOneLineNamingTheFileAndTheShapes()
    {
        using var dir = new TempDirectory();
        var r = LdmProcess.Run(["vae", "sample", "--model", Fixture("ae_state_dict.pt"), "-n", "2", "--out", dir.File("a.png")]);
        AssertOneLineError(r, 1, "ae_state_dict.pt");
        Assert.Contains("file has [4, 32, 3, 3], model needs [8, 32, 3, 3]", r.Stderr);
        Assert.Empty(dir.FileNames());
    }

    [Fact]
    public void VaeEvaluate_ReportsReconstructionAndKl()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(50, 40));
        var r = LdmProcess.Run(["vae", "evaluate", "--model", Fixture("vae_state_dict.pt"), "--data", data, "--json"]);
        Assert.Equal(0, r.ExitCode);
        using var json = JsonDocument.Parse(r.Stdout.TrimEnd().Split('\n')[^1]);
        var metrics = json.RootElement.GetProperty("metrics");
        double rec = metrics.GetProperty("val_rec").GetDouble(), kl = metrics.GetProperty("val_kl").GetDouble();
        Assert.Equal(rec + kl, json.RootElement.GetProperty("loss").GetDouble(), 6);
        Assert.Equal(40, json.RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public void ExportToPt_LoadsBackToTheSameSamples()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, LdmProcess.Run(["vae", "export", "--model", Fixture("vae_state_dict.pt"), "--to", dir.File("v.safetensors")]).ExitCode);
        Assert.Equal(0, LdmProcess.Run(["vae", "export", "--model", dir.File("v.safetensors"), "--to", dir.File("v.pt")]).ExitCode);
        Assert.Equal(0, LdmProcess.Run(["vae", "sample", "--model", Fixture("vae_state_dict.pt"), "-n", "4", "--out", dir.File("a.npz")]).ExitCode);
        Assert.Equal(0, LdmProcess.Run(["vae", "sample", "--model", dir.File("v.pt"), "-n", "4", "--out", dir.File("b.npz")]).ExitCode);
        var ranks = new Dictionary<string, int> { ["images"] = 4 };
        double[] a = LatentDiffusion.IO.Npz.Load(dir.File("a.npz"), ranks).Arrays["images"].Data;
        double[] b = LatentDiffusion.IO.Npz.Load(dir.File("b.npz"), ranks).Arrays["images"].Data;
        Assert.Equal(a, b);
    }

    [Fact]
    public void DiffusionTrainAndSample_TinyRun_EndToEnd()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(64, 32));
        string run = dir.File("run");
        var train = LdmProcess.Run(["diffusion", "train", "--vae", Fixture("vae_state_dict.pt"), "--data", data, "--epochs", "2", "--batch-size", "32",
            "--widths", "8,16", "--ema", "0.9", "--latent-scale", "auto", "--out", run, "--json"], timeoutSeconds: 300);
        Assert.True(train.ExitCode == 0, train.Stderr);
        string model = Path.Combine(run, "model.safetensors");
        var sample = LdmProcess.Run(["diffusion", "sample", "--model", model, "--vae", Fixture("vae_state_dict.pt"), "-n", "3", "--clip-x0", "--out", dir.File("d.npz"), "--json"], timeoutSeconds: 300);
        Assert.True(sample.ExitCode == 0, sample.Stderr);
        Assert.True(File.Exists(dir.File("d.npz")));
        // A UNet whose latents do not fit the VAE: one line naming both files.
        var wrong = LdmProcess.Run(["diffusion", "sample", "--model", model, "--vae", Fixture("ae_state_dict.pt"), "-n", "1", "--out", dir.File("e.png")]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("ae_state_dict.pt", wrong.Stderr);
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", model, "--vae", Fixture("vae_state_dict.pt"), "-n", "0", "--out", dir.File("f.png")]), 2, "-n");
        // --device: cpu is the default and gives the same digits; CUDA on this TorchSharp-cpu build is a usage error.
        Assert.Equal(0, LdmProcess.Run(["diffusion", "sample", "--model", model, "--vae", Fixture("vae_state_dict.pt"), "-n", "3", "--clip-x0", "--device", "cpu", "--out", dir.File("cpu.npz")], timeoutSeconds: 300).ExitCode);
        static double[] Images(string path) => LatentDiffusion.IO.Npz.Load(path, new Dictionary<string, int> { ["images"] = 4 }).Arrays["images"].Data;
        Assert.Equal(Images(dir.File("d.npz")), Images(dir.File("cpu.npz")));
        if (!TorchSharp.torch.cuda.is_available())
        {
            AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", model, "--vae", Fixture("vae_state_dict.pt"), "-n", "3", "--device", "cuda", "--out", dir.File("g.png")]), 2, "TorchSharp-cpu");
            AssertOneLineError(LdmProcess.Run(["diffusion", "train", "--vae", Fixture("vae_state_dict.pt"), "--data", data, "--device", "cuda:0", "--out", dir.File("run2")]), 2, "--device");
        }
        AssertOneLineError(LdmProcess.Run(["vae", "train", "--data", data, "--device", "gpu", "--out", dir.File("run3")]), 2, "unknown device 'gpu'");
        Assert.False(File.Exists(dir.File("e.png")) || File.Exists(dir.File("f.png")) || File.Exists(dir.File("g.png")) || Directory.Exists(dir.File("run3")));
    }
}
