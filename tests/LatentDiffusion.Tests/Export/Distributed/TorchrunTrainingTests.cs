using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Export.Distributed;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Interop;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Export.Distributed;

/// <summary>
/// Tiny bundles trained by python/ldm_train_ddp.py under torchrun with 2 gloo processes and imported: the weights load
/// through <see cref="ModelFile"/> with the bundle's config; 1 and 2 processes (float64) train the same run; a run stopped
/// at a checkpoint and resumed ends on the uninterrupted run's weights. Skipped where python3 has no torch.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class TorchrunTrainingTests
{
    /// <summary>A conditional α-deblending UNet on 48 latents of a random VAE, batches of 8 with an EMA: 12 steps.</summary>
    static BundleSpec DiffusionBundle(TempDirectory dir, string name = "bundle")
    {
        MnistData mnist = BundleTests.Synthetic(dir, train: 48, test: 16);
        string vaePath = dir.File("vae.safetensors");
        if (!File.Exists(vaePath))
        {
            manual_seed(5);
            using var vae = new Vae();
            ModelWeights.Save(vae, vaePath, RunDirectory.Metadata(nameof(Vae), JsonSerializer.Serialize(vae.Config), new TrainingConfig()));
        }
        using var latents = LatentSet.Encode(vaePath, mnist, 0);
        var unet = new UNetConfig { LatentChannels = latents.Channels, Widths = [8, 16], InputSkip = true, Classes = 10 };
        DiffusionConfig model = latents.Config(unet) with { Objective = DiffusionObjective.AlphaDeblending };
        var config = new TrainingConfig
        {
            Epochs = 2, BatchSize = 8, LearningRate = 2e-3, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 3, EmaDecay = 0.9,
            LogEvery = 1, CheckpointEvery = 1, EvalBatchSize = 8,
        };
        return BundlePreparation.Diffusion(dir.File(name), config, model, latents);
    }

    static void RequireSuccess(Torchrun.Result result) => Assert.True(result.ExitCode == 0, $"torchrun failed (exit {result.ExitCode}):\n{result.Output}");

    [SkippableFact]
    public void Diffusion_TwoGlooProcesses_TrainsAndImportsForSampling()
    {
        PythonTwin.SkipUnlessTorch();
        using var dir = new TempDirectory();
        BundleSpec spec = DiffusionBundle(dir);
        string bundle = dir.File("bundle");

        RequireSuccess(Torchrun.Run(bundle, 2));
        ImportResult result = BundleImport.Import(bundle, dir.File("imported"));

        Assert.False(result.Partial);
        Assert.Equal(12, result.Steps);
        Assert.Equal(2, result.LoggedEpochs);
        Assert.NotNull(result.RawModelPath);
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(result.ModelPath);
        using (unet)
        {
            Assert.Equal(JsonSerializer.Deserialize<DiffusionConfig>(spec.Settings!), config);
            using var initial = new UNet(config.UNet);
            ModelWeights.Load(initial, Path.Combine(bundle, BundleSpec.InitialFileName));
            Assert.False(initial.state_dict()["out.weight"].eq(unet.state_dict()["out.weight"]).all().item<bool>());   // it trained
        }
        List<EpochLog> history = TrainingHistory.Load(dir.File("imported"));
        Assert.All(history, h => Assert.True(double.IsFinite(h.TrainLoss) && double.IsFinite(h.ValLoss)));
        // The imported weights export to ONNX like any of ours (the checker's test covers the same graph builder).
        var exported = Assert.Single(LatentDiffusion.Export.Onnx.OnnxExport.Export([result.ModelPath], dir.File("onnx")));
        Assert.Equal("unet", exported.Kind);
        Assert.True(File.Exists(exported.Path) && exported.Bytes > 0);
    }

    [SkippableFact]
    public void Diffusion_OneAndTwoProcessesInFloat64_GiveTheSameLossesAndWeights()
    {
        PythonTwin.SkipUnlessTorch();
        using var dir = new TempDirectory();
        DiffusionBundle(dir);
        string bundle = dir.File("bundle");

        RequireSuccess(Torchrun.Run(bundle, 1, "--float64", "--run", dir.File("one")));
        RequireSuccess(Torchrun.Run(bundle, 2, "--float64", "--run", dir.File("two")));

        double[] one = Losses(dir.File("one")), two = Losses(dir.File("two"));
        Assert.Equal(12, one.Length);
        Assert.Equal(one.Length, two.Length);
        for (int i = 0; i < one.Length; i++) Assert.True(Math.Abs(one[i] - two[i]) <= 1e-9 * Math.Abs(one[i]), $"step {i}: {one[i]:R} vs {two[i]:R}");
        AssertSameWeights(dir.File("one/model.raw.safetensors"), dir.File("two/model.raw.safetensors"), 1e-6);   // saved as float32
    }

    [SkippableFact]
    public void Diffusion_StoppedAtACheckpointAndResumed_EndsOnTheUninterruptedWeights()
    {
        PythonTwin.SkipUnlessTorch();
        using var dir = new TempDirectory();
        DiffusionBundle(dir);
        string bundle = dir.File("bundle");

        RequireSuccess(Torchrun.Run(bundle, 2, "--run", dir.File("whole")));
        RequireSuccess(Torchrun.Run(bundle, 2, "--run", dir.File("resumed"), "--checkpoint-steps", "2", "--max-steps", "5"));
        Assert.False(File.Exists(dir.File("resumed/finished.json")));
        Torchrun.Result resumed = Torchrun.Run(bundle, 2, "--run", dir.File("resumed"));
        RequireSuccess(resumed);

        Assert.Contains("resuming at step 5", resumed.Output);
        Assert.Equal(Losses(dir.File("whole")), Losses(dir.File("resumed")));
        AssertSameWeights(dir.File("whole/model.safetensors"), dir.File("resumed/model.safetensors"), 0);
    }

    [SkippableTheory]
    [InlineData("classifier")]
    [InlineData("vae")]
    [InlineData("vae", "--sync-bn")]
    public void ImageModels_TwoGlooProcesses_TrainAndImportThroughModelFile(string kind, params string[] extra)
    {
        PythonTwin.SkipUnlessTorch();
        using var dir = new TempDirectory();
        MnistData mnist = BundleTests.Synthetic(dir, train: 40, test: 16);
        var config = new TrainingConfig { Epochs = 2, BatchSize = 8, EmaDecay = 0.9, LogEvery = 1, CheckpointEvery = 1, EvalBatchSize = 8 };
        string bundle = dir.File("bundle");
        var model = new VaeConfig { Sigma = SigmaParameterization.LogVariance, HeadChannels = 8, LatentChannels = 2, KlWeight = 0.01 };
        if (kind == "vae") BundlePreparation.Vae(bundle, config, model, mnist);
        else BundlePreparation.Classifier(bundle, config, mnist);

        RequireSuccess(Torchrun.Run(bundle, 2, extra));
        ImportResult result = BundleImport.Import(bundle, dir.File("imported"));

        Assert.Equal(10, result.Steps);
        Assert.NotNull(result.RawModelPath);
        if (kind == "vae")
        {
            using Vae vae = ModelFile.LoadVae(result.ModelPath);                // BatchNorm's 0-d counters included
            Assert.Equal(model, vae.Config);
        }
        else ModelFile.LoadClassifier(result.ModelPath).Dispose();
    }

    [SkippableFact]
    public void WorldSizeThatDoesNotDivideTheBatch_StopsWithOneLineNamingBoth()
    {
        PythonTwin.SkipUnlessTorch();
        using var dir = new TempDirectory();
        BundlePreparation.Classifier(dir.File("bundle"), new TrainingConfig { Epochs = 1, BatchSize = 8 }, BundleTests.Synthetic(dir));

        Torchrun.Result result = Torchrun.Run(dir.File("bundle"), 3);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Single(result.Output.Split('\n'), l => l.Contains("error: ") && l.Contains("batch size 8 is not divisible by the world size 3"));
        Assert.False(File.Exists(Path.Combine(dir.File("bundle"), BundleSpec.RunFolder, "checkpoint.pt")));
    }

    static double[] Losses(string run) =>
        JsonSerializer.Deserialize<double[]>(File.ReadAllText(Path.Combine(run, "step_losses.json")))!;

    static void AssertSameWeights(string a, string b, double tolerance)
    {
        var (left, _) = Safetensors.Load(a);
        var (right, _) = Safetensors.Load(b);
        Assert.Equal(left.Keys.Order(), right.Keys.Order());
        foreach (var (name, t) in left)
        {
            double worst = t.to_type(ScalarType.Float64).sub(right[name].to_type(ScalarType.Float64)).abs().max().item<double>();
            Assert.True(worst <= tolerance, $"{name}: max |Δ| {worst:E3} > {tolerance:E0}");
        }
    }
}
