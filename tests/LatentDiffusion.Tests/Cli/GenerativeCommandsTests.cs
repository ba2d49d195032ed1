using System.Text.Json;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// <c>ldm vae|autoencoder|diffusion</c> through the real executable, on the PyTorch fixture weights and tiny synthetic
/// data: outputs land where asked, bad input is one line with the right exit code, JSON is the last line.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class GenerativeCommandsTests
{
    static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-vae", file);

    static void AssertOneLineError(LdmProcess.Result r, int exitCode, string contains) => LdmProcess.AssertOneLineError(r, exitCode, contains);

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
        // The post's VAE makes 4x4 latents: two levels at most (4 → 2), a third would pool to 1x1.
        AssertOneLineError(LdmProcess.Run(["diffusion", "train", "--vae", Fixture("vae_state_dict.pt"), "--data", data, "--widths", "8,16,32", "--out", dir.File("deep")]),
            2, "a 4x4 latent takes at most 2 levels (got 3");
        Assert.False(Directory.Exists(dir.File("deep")));
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
        AssertOneLineError(LdmProcess.Run(["vae", "train", "--data", data, "--device", "gpu", "--out", dir.File("run3")]), 2, "unknown device 'gpu'");
        Assert.False(File.Exists(dir.File("e.png")) || File.Exists(dir.File("f.png")) || Directory.Exists(dir.File("run3")));
    }

    /// <summary>On a machine without CUDA, asking for it is a usage error that names the build, for sampling and training.</summary>
    [SkippableFact]
    public void CudaDevice_WithoutCuda_IsAUsageErrorNamingTheBuild()
    {
        Skip.If(TorchSharp.torch.cuda.is_available(), "CUDA is available here: the usage error for a missing CUDA cannot be shown");
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(64, 32));
        string model = RepositoryPaths.Find("models/diffusion.safetensors") ?? throw new FileNotFoundException("models/diffusion.safetensors");
        string vae = RepositoryPaths.Find("models/latent-vae.safetensors") ?? throw new FileNotFoundException("models/latent-vae.safetensors");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", model, "--vae", vae, "-n", "3", "--device", "cuda", "--out", dir.File("g.png")]), 2, "TorchSharp-cpu");
        AssertOneLineError(LdmProcess.Run(["diffusion", "train", "--vae", vae, "--data", data, "--device", "cuda:0", "--out", dir.File("run2")]), 2, "--device");
        Assert.False(File.Exists(dir.File("g.png")) || Directory.Exists(dir.File("run2")));
    }

    [Fact]
    public void Samplers_OfTinyModels_RunAndMisfitsAreUsageErrorsNamingTheModelsKind()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(64, 32));
        string vae = Fixture("vae_state_dict.pt");
        string[] common = ["--vae", vae, "--data", data, "--epochs", "1", "--batch-size", "32", "--widths", "8,16", "--ema", "0.9"];
        var eps = LdmProcess.Run(["diffusion", "train", .. common, "--out", dir.File("eps")], timeoutSeconds: 300);
        Assert.True(eps.ExitCode == 0, eps.Stderr);
        var iadb = LdmProcess.Run(["diffusion", "train", .. common, "--objective", "iadb", "--conditional", "--out", dir.File("iadb")], timeoutSeconds: 300);
        Assert.True(iadb.ExitCode == 0, iadb.Stderr);
        string epsModel = dir.File("eps/model.safetensors"), iadbModel = dir.File("iadb/model.safetensors");
        Assert.True(File.Exists(dir.File("eps/model.raw.safetensors")), "an EMA run keeps its raw weights");

        var ddim = LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--vae", vae, "-n", "3", "--sampler", "ddim", "--steps", "5", "--out", dir.File("ddim.npz"), "--json"], timeoutSeconds: 300);
        Assert.True(ddim.ExitCode == 0, ddim.Stderr);
        using (var json = JsonDocument.Parse(ddim.Stdout.TrimEnd().Split('\n')[^1]))
        {
            Assert.Equal("ddim", json.RootElement.GetProperty("sampler").GetString());
            Assert.Equal(5, json.RootElement.GetProperty("evaluations").GetInt32());
        }
        Assert.Equal(0, LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--raw", "--vae", vae, "-n", "2", "--sampler", "ddim", "--steps", "3", "--eta", "1", "--out", dir.File("raw.npz")], timeoutSeconds: 300).ExitCode);
        var heun = LdmProcess.Run(["diffusion", "sample", "--model", iadbModel, "--vae", vae, "-n", "2", "--steps", "4", "--heun", "--out", dir.File("heun.png"), "--json"], timeoutSeconds: 300);
        Assert.True(heun.ExitCode == 0, heun.Stderr);
        using (var json = JsonDocument.Parse(heun.Stdout.TrimEnd().Split('\n')[^1]))
        {
            Assert.Equal("heun", json.RootElement.GetProperty("sampler").GetString());   // the deprecated --heun is --sampler heun
            Assert.Equal(7, json.RootElement.GetProperty("evaluations").GetInt32());
        }
        var named = LdmProcess.Run(["diffusion", "sample", "--model", iadbModel, "--vae", vae, "-n", "2", "--steps", "4", "--sampler", "heun", "--out", dir.File("heun2.png")], timeoutSeconds: 300);
        Assert.True(named.ExitCode == 0, named.Stderr);
        Assert.Equal(File.ReadAllBytes(dir.File("heun.png")), File.ReadAllBytes(dir.File("heun2.png")));

        string Out(string name) => dir.File(name);
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--vae", vae, "--sampler", "iadb", "--out", Out("a.png")]), 2, "ε-prediction (DDPM) model");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", iadbModel, "--vae", vae, "--sampler", "ddim", "--out", Out("b.png")]), 2, "α-deblending (x1 − x0) model");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--vae", vae, "--sampler", "ddim", "--steps", "0", "--out", Out("c.png")]), 2, "at least 1");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--vae", vae, "--sampler", "ddim", "--steps", "1001", "--out", Out("d.png")]), 2, "at most T = 1000");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--vae", vae, "--sampler", "ddim", "--eta", "-1", "--out", Out("e.png")]), 2, "eta");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", iadbModel, "--vae", vae, "--steps", "0", "--out", Out("f.png")]), 2, "at least 1");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", iadbModel, "--vae", vae, "--clip-x0", "--out", Out("g.png")]), 2, "ε-models only");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", epsModel, "--vae", vae, "--sampler", "ddim", "--heun", "--out", Out("m.png")]), 2, "--heun");
        AssertOneLineError(LdmProcess.Run(["diffusion", "sample", "--model", iadbModel, "--vae", vae, "--eta", "0.5", "--out", Out("n.png")]), 2, "eta applies to the ddim sampler only");

        var asked = LdmProcess.Run(["generate", "--digit", "all", "-n", "2", "--model", iadbModel, "--vae", vae, "--steps", "3", "--guidance", "2", "--out", Out("all.png"), "--json"], timeoutSeconds: 300);
        Assert.True(asked.ExitCode == 0, asked.Stderr);
        Assert.True(File.Exists(Out("all.png")));
        using (var json = JsonDocument.Parse(asked.Stdout.TrimEnd().Split('\n')[^1]))
            Assert.Equal(10, json.RootElement.GetProperty("digits").GetArrayLength());
        Assert.Equal(0, LdmProcess.Run(["generate", "--digit", "7", "-n", "3", "--model", iadbModel, "--vae", vae, "--steps", "2", "--out", Out("seven")], timeoutSeconds: 300).ExitCode);
        Assert.Equal(3, Directory.GetFiles(Out("seven"), "*.png").Length);
        AssertOneLineError(LdmProcess.Run(["generate", "--digit", "10", "--model", iadbModel, "--vae", vae, "--out", Out("h.png")]), 2, "--digit");
        AssertOneLineError(LdmProcess.Run(["generate", "--digit", "x", "--model", iadbModel, "--vae", vae, "--out", Out("i.png")]), 2, "--digit");
        AssertOneLineError(LdmProcess.Run(["generate", "--digit", "3", "--guidance", "-1", "--model", iadbModel, "--vae", vae, "--out", Out("j.png")]), 2, "--guidance");
        AssertOneLineError(LdmProcess.Run(["generate", "--digit", "3", "--guidance", "NaN", "--model", iadbModel, "--vae", vae, "--out", Out("k.png")]), 2, "--guidance");
        AssertOneLineError(LdmProcess.Run(["generate", "--digit", "3", "--model", epsModel, "--vae", vae, "--out", Out("l.png")]), 2, "unconditional");
        foreach (string name in "abcdefghijklmn".Select(c => c + ".png")) Assert.False(File.Exists(Out(name)), name);

        // The guidance sweep, graded by the shipped classifier, with its report.
        var sweep = LdmProcess.Run(["reproduce", "conditional", "--model", iadbModel, "--vae", vae, "--data", data, "-n", "3", "--guidance", "2,0",
            "--steps", "2", "--seeds", "2", "--out", Out("cond"), "--json"], timeoutSeconds: 300);
        Assert.True(sweep.ExitCode == 0, sweep.Stderr);
        using (var json = JsonDocument.Parse(sweep.Stdout.TrimEnd().Split('\n')[^1]))
        {
            Assert.Equal([0.0, 2.0], json.RootElement.GetProperty("sweep").EnumerateArray().Select(r => r.GetProperty("guidance").GetDouble()));
            Assert.All(json.RootElement.GetProperty("sweep").EnumerateArray(), r => Assert.Equal(10, r.GetProperty("digits").GetArrayLength()));
            // --seeds 2: every weight's accuracy, per-class FID and the rest the mean of seeds 0 and 1, with the range; each digit's FID the mean of its two.
            foreach (JsonElement row in json.RootElement.GetProperty("sweep").EnumerateArray())
            {
                ReproduceTests.AssertMeanOfSeeds(row, ["accuracy", "worst_accuracy", "mean_confidence", "mean_fid", "worst_fid"], "accuracy");
                ReproduceTests.AssertMeanOfSeeds(row, [], "mean_fid");
                for (int d = 0; d < 10; d++)
                    Assert.Equal(row.GetProperty("per_seed").EnumerateArray().Average(p => p.GetProperty("digits")[d].GetProperty("fid").GetDouble()),
                        row.GetProperty("digits")[d].GetProperty("fid").GetDouble(), 1e-12);
            }
            string report = json.RootElement.GetProperty("report").GetString()!;
            Assert.True(File.Exists(Path.Combine(report, "index.html")) && File.Exists(Path.Combine(report, "guidance_sweep.png")) && File.Exists(Path.Combine(report, "balanced_grid.png")));
        }
        AssertOneLineError(LdmProcess.Run(["reproduce", "conditional", "--model", epsModel, "--vae", vae, "--data", data, "--out", Out("cond2")]), 2, "not a class-conditional");
        AssertOneLineError(LdmProcess.Run(["reproduce", "conditional", "--model", iadbModel, "--vae", vae, "--data", data, "--guidance", "1,x", "--out", Out("cond3")]), 2, "--guidance");
        AssertOneLineError(LdmProcess.Run(["reproduce", "conditional", "--models", Out("no-such-set"), "--data", data, "--out", Out("cond4")]), 2, "--models");
        AssertOneLineError(LdmProcess.Run(["reproduce", "conditional", "--models", Out("cond"), "--data", data, "--out", Out("cond5")]), 1, "latent-vae.safetensors does not exist");   // a folder without the set's files
    }
}
