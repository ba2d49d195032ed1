using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

/// <summary>The shared loop with part 2's and part 3's tasks: determinism, resume, NaN stop, EMA, history metrics.</summary>
[Collection("Torch")]
public sealed class GenerativeTrainingTests
{
    static readonly TrainingConfig Small = new() { Epochs = 4, BatchSize = 32, LogEvery = 1, CheckpointEvery = 1, Seed = 3 };

    /// <summary>A narrow VAE (the post's structure at a quarter of the width) so a test epoch takes well under a second.</summary>
    static readonly VaeConfig TinyVae = new() { Features = [1, 4, 4, 8] };

    static (Tensor Train, Tensor Test) Images()
    {
        var data = SyntheticData.Dataset(96, 32);
        return (data.Train.ToInputs(), data.Test.ToInputs());
    }

    /// <summary>Runs <paramref name="body"/> with the synthetic training and test images and a temporary directory, disposing all three.</summary>
    static void WithImages(Action<Tensor, Tensor, TempDirectory> body)
    {
        (Tensor train, Tensor test) = Images();
        using (train)
        using (test)
        using (var dir = new TempDirectory())
            body(train, test, dir);
    }

    /// <summary>A diffusion task on N(0, I) "latents" (64 train, 32 test, 2x4x4) drawn after seeding with <paramref name="seed"/> (the few tensors are left to the finalizer).</summary>
    static DiffusionTask RandomLatentTask(int seed, DiffusionConfig config)
    {
        manual_seed(seed);
        Tensor train = randn(64, 2, 4, 4), test = randn(32, 2, 4, 4);
        return new DiffusionTask(train, test, config);
    }

    static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(t.equal(sb[name]).all().item<bool>(), $"{name} differs");
    }

    [Fact]
    public void Vae_TwoPlusTwoEpochs_EqualsFourBitForBit()
    {
        WithImages((train, test, dir) =>
        {
            var task = new VaeTask(train, test, TinyVae);
            using var straight = new Trainer<Vae>(Small).Train(task, dir.File("straight"));
            new Trainer<Vae>(Small with { Epochs = 2 }).Train(task, dir.File("resumed")).Dispose();
            manual_seed(999);                                  // the global generator in between must not matter
            using var resumed = new Trainer<Vae>(Small).Train(task, dir.File("resumed"), resume: true);
            AssertSameWeights(straight.Model, resumed.Model);
            Assert.Equal([1, 2, 3, 4], resumed.History.Select(h => h.Epoch));
            EpochLog last = resumed.History[^1];
            Assert.Equal(["val_rec", "val_kl", "train_rec", "train_kl"], last.Metrics.Select(m => m.Key));
            Assert.Equal(last.Metric("val_rec") + last.Metric("val_kl"), last.ValLoss, 6);
            Assert.Equal(straight.History.Select(h => h.ValLoss), resumed.History.Select(h => h.ValLoss));
        });
    }

    [Fact]
    public void Vae_LossFalls_AndTheModelFileRecordsItsSettings()
    {
        WithImages((train, test, dir) =>
        {
            var config = TinyVae with { Sigma = SigmaParameterization.LogVariance, HeadChannels = 8, LatentChannels = 2, KlWeight = 0.1 };
            using var result = new Trainer<Vae>(Small with { Epochs = 6, LearningRate = 3e-3 }).Train(new VaeTask(train, test, config), dir.Path);
            Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss, $"{result.History[0].TrainLoss} → {result.History[^1].TrainLoss}");
            using Vae loaded = ModelFile.LoadVae(dir.File(RunDirectory.ModelFileName));
            Assert.Equal(config, loaded.Config);
            AssertSameWeights(result.Model, loaded);
            var e = Assert.Throws<DataFormatException>(() => ModelFile.LoadAutoencoder(dir.File(RunDirectory.ModelFileName)));
            Assert.Contains("holds a Vae", e.Message);
        });
    }

    [Fact]
    public void Autoencoder_ResumeWithOtherSettings_IsRefused()
    {
        WithImages((train, test, dir) =>
        {
            new Trainer<ConvAutoencoder>(Small with { Epochs = 1 }).Train(new AutoencoderTask(train, test, new AutoencoderConfig { Features = [1, 4, 8, 2] }), dir.Path).Dispose();
            var e = Assert.Throws<DataFormatException>(() =>
                new Trainer<ConvAutoencoder>(Small).Train(new AutoencoderTask(train, test, new AutoencoderConfig { Features = [1, 4, 8, 4] }), dir.Path, resume: true));
            Assert.Contains(Checkpoint.FileName, e.Message);
            var other = Assert.Throws<DataFormatException>(() =>
                new Trainer<Vae>(Small).Train(new VaeTask(train, test, TinyVae), dir.Path, resume: true));
            Assert.Contains("ConvAutoencoder", other.Message);
        });
    }

    [Fact]
    public void RawSigmaVae_HugeLearningRate_StopsKeepingTheLastGoodCheckpoint()
    {
        WithImages((train, test, dir) =>
        {
            var e = Assert.Throws<TrainingDivergedException>(() =>
                new Trainer<Vae>(Small with { LearningRate = 1e6 }).Train(new VaeTask(train, test, TinyVae), dir.Path));
            Assert.Contains("diverged", e.Message);
            Assert.Empty(Directory.GetFiles(dir.Path, "*" + AtomicFile.TempSuffix));
            Assert.False(File.Exists(dir.File(RunDirectory.ModelFileName)));
        });
    }

    [Fact]
    public void Diffusion_WithEma_TwoPlusTwoEqualsFour_AndSavesTheAverage()
    {
        var config = new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] }, Steps = 50, LatentScale = 0.5 };
        using var task = RandomLatentTask(5, config);
        var training = Small with { EmaDecay = 0.9, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 2 };
        using var dir = new TempDirectory();
        using var straight = new Trainer<UNet>(training).Train(task, dir.File("straight"));
        new Trainer<UNet>(training with { Epochs = 2 }).Train(task, dir.File("resumed")).Dispose();
        var refused = Assert.Throws<DataFormatException>(() => new Trainer<UNet>(training).Train(task, dir.File("resumed"), resume: true));
        Assert.Contains("epochs", refused.Message);   // a cosine run's length is part of its schedule
        using var dir2 = new TempDirectory();
        new Trainer<UNet>(training).Train(task, dir2.File("a")).Dispose();
        using var again = new Trainer<UNet>(training).Train(task, dir2.File("b"));
        AssertSameWeights(straight.Model, again.Model);
        (UNet loaded, DiffusionConfig loadedConfig) = ModelFile.LoadDiffusion(dir.File("straight/" + RunDirectory.ModelFileName));
        using (loaded)
        {
            AssertSameWeights(straight.Model, loaded);
            Assert.Equal(config.LatentScale, loadedConfig.LatentScale);
            Assert.Equal(config.UNet, loadedConfig.UNet);
        }
    }

    [Fact]
    public void Vae_WithEma_GivesTheAverageItsOwnBatchNormStatistics_AndResumesBitForBit()
    {
        WithImages((train, test, dir) =>
        {
            var task = new VaeTask(train, test, TinyVae);
            var training = Small with { EmaDecay = 0.9 };
            using var straight = new Trainer<Vae>(training).Train(task, dir.File("straight"));
            new Trainer<Vae>(training with { Epochs = 2 }).Train(task, dir.File("resumed")).Dispose();
            using var resumed = new Trainer<Vae>(training).Train(task, dir.File("resumed"), resume: true);
            AssertSameWeights(straight.Model, resumed.Model);
            using Vae saved = ModelFile.LoadVae(dir.File("straight/" + RunDirectory.ModelFileName));
            AssertSameWeights(straight.Model, saved);
            // The saved average's statistics are those AveragedBatchNorm computes for it, not the live model's copy.
            using Vae recomputed = ModelFile.LoadVae(dir.File("straight/" + RunDirectory.ModelFileName));
            AveragedBatchNorm.Recompute(task, recomputed, training.BatchSize, training.Seed);
            AssertSameWeights(saved, recomputed);
            using Vae raw = ModelFile.LoadVae(dir.File("straight/" + RunDirectory.RawModelFileName));
            var averaged = saved.state_dict();
            Assert.Contains(raw.state_dict(), kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal) && !kv.Value.equal(averaged[kv.Key]).all().item<bool>());
        });
    }

    [Fact]
    public void Diffusion_WithEma_SavesTheRawWeightsBesideTheAverage()
    {
        var config = new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] }, Steps = 50 };
        using var task = RandomLatentTask(7, config);
        using var dir = new TempDirectory();
        using var result = new Trainer<UNet>(Small with { EmaDecay = 0.9 }).Train(task, dir.Path);
        string raw = dir.File(RunDirectory.RawModelFileName);
        Assert.Equal(raw, RunDirectory.RawWeightsPath(dir.File(RunDirectory.ModelFileName)));
        (UNet rawNet, DiffusionConfig rawConfig) = ModelFile.LoadDiffusion(raw);
        using (rawNet)
        {
            Assert.Equal(config.UNet, rawConfig.UNet);
            var averaged = result.Model.state_dict();
            Assert.Contains(rawNet.state_dict(), kv => !kv.Value.equal(averaged[kv.Key]).all().item<bool>());   // not the EMA copy
        }
        using var noEma = new TempDirectory();
        new Trainer<UNet>(Small).Train(task, noEma.Path).Dispose();
        Assert.False(File.Exists(noEma.File(RunDirectory.RawModelFileName)), "a run without EMA has one set of weights");
    }

    [Fact]
    public void EmaSweep_LeavesTrainingAlone_ResumesBitForBit_AndSavesEachAverage()
    {
        var config = new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] }, Steps = 50 };
        using var task = RandomLatentTask(9, config);
        var training = Small with { EmaDecay = 0.9, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 2 };
        double[] decays = [0.5, 0.9];
        using var dir = new TempDirectory();
        using var plain = new Trainer<UNet>(training).Train(task, dir.File("plain"));
        using var swept = new Trainer<UNet>(training) { EmaSweep = decays }.Train(task, dir.File("swept"));
        AssertSameWeights(plain.Model, swept.Model);                                        // the averages do not change the run
        Assert.Equal(plain.History.Select(h => h.ValLoss), swept.History.Select(h => h.ValLoss));
        // The sweep's 0.9 average is the main EMA (same decay, same updates); 0.5 is another set of weights.
        (UNet same, _) = ModelFile.LoadDiffusion(dir.File("swept/" + RunDirectory.SweepModelFileName(0.9)));
        (UNet half, _) = ModelFile.LoadDiffusion(dir.File("swept/" + RunDirectory.SweepModelFileName(0.5)));
        using (same)
        using (half)
        {
            AssertSameWeights(swept.Model, same);
            var averaged = swept.Model.state_dict();
            Assert.Contains(half.state_dict(), kv => !kv.Value.equal(averaged[kv.Key]).all().item<bool>());
        }
        Assert.Equal("model.ema-0.9999.safetensors", RunDirectory.SweepModelFileName(0.9999));

        // Stopped after 2 of 4 epochs and resumed: every average as in the straight run.
        string resumedRun = dir.File("resumed");
        Directory.CreateDirectory(resumedRun);
        using (var cancel = new CancellationTokenSource())
        {
            var stopAfterTwo = new StopAfter(2, cancel);
            Assert.Throws<TrainingStoppedException>(() => new Trainer<UNet>(training, stopAfterTwo) { EmaSweep = decays }.Train(task, resumedRun, cancel: cancel.Token));
        }
        var refused = Assert.Throws<DataFormatException>(() => new Trainer<UNet>(training) { EmaSweep = [0.5] }.Train(task, resumedRun, resume: true));
        Assert.Contains("EMA sweep [0.5, 0.9]", refused.Message);
        Assert.Throws<DataFormatException>(() => new Trainer<UNet>(training).Train(task, resumedRun, resume: true));
        using var resumed = new Trainer<UNet>(training) { EmaSweep = decays }.Train(task, resumedRun, resume: true);
        AssertSameWeights(swept.Model, resumed.Model);
        foreach (double d in decays)
        {
            (UNet a, _) = ModelFile.LoadDiffusion(dir.File("swept/" + RunDirectory.SweepModelFileName(d)));
            (UNet b, _) = ModelFile.LoadDiffusion(Path.Combine(resumedRun, RunDirectory.SweepModelFileName(d)));
            using (a)
            using (b)
                AssertSameWeights(a, b);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer<UNet>(training) { EmaSweep = [1.0] }.Train(task, dir.File("bad")));
    }

    /// <summary>Requests a stop once <paramref name="epochs"/> epochs have finished (the trainer honours it at the next batch).</summary>
    sealed class StopAfter(int epochs, CancellationTokenSource cancel) : ITrainingObserver
    {
        public void EpochStarted(int epoch, int total, int batches)
        {
            if (epoch > epochs) cancel.Cancel();
        }
    }

    [Fact]
    public void AlphaDeblendingAndConditional_TwoPlusTwoEqualsFour()
    {
        manual_seed(8);
        using Tensor train = randn(64, 2, 4, 4);
        using Tensor test = randn(32, 2, 4, 4);
        using Tensor trainLabels = randint(0, 10, [64], dtype: ScalarType.Int64), testLabels = randint(0, 10, [32], dtype: ScalarType.Int64);
        var config = new DiffusionConfig
        {
            UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16], Classes = 10 },
            Objective = DiffusionObjective.AlphaDeblending,
            LabelDropout = 0.3,
        };
        using var task = new DiffusionTask(train, test, config, trainLabels, testLabels);
        var training = Small with { EmaDecay = 0.9 };
        using var dir = new TempDirectory();
        using var straight = new Trainer<UNet>(training).Train(task, dir.File("straight"));
        Assert.All(straight.History, h => Assert.True(double.IsFinite(h.ValLoss)));
        new Trainer<UNet>(training with { Epochs = 2 }).Train(task, dir.File("resumed")).Dispose();
        using var resumed = new Trainer<UNet>(training).Train(task, dir.File("resumed"), resume: true);
        AssertSameWeights(straight.Model, resumed.Model);
        (UNet loaded, DiffusionConfig loadedConfig) = ModelFile.LoadDiffusion(dir.File("straight/" + RunDirectory.ModelFileName));
        using (loaded)
        {
            Assert.Equal(DiffusionObjective.AlphaDeblending, loadedConfig.Objective);
            Assert.Equal(10, loadedConfig.UNet.Classes);
            Assert.Equal(0.3, loadedConfig.LabelDropout);
            Assert.Contains("label.weight", loaded.state_dict().Keys);
        }
        Assert.Throws<ArgumentException>(() => new DiffusionTask(train, test, config));                       // conditional without labels
        Assert.Throws<ArgumentException>(() => new DiffusionTask(train, test, config with { UNet = config.UNet with { Classes = 0 } }, trainLabels, testLabels));
    }

    [Fact]
    public void Diffusion_ResumeOfAnInterruptedEmaRun_EqualsTheStraightRun()
    {
        var config = new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] }, Steps = 50 };
        using var task = RandomLatentTask(6, config);
        var training = Small with { EmaDecay = 0.9 };                       // constant rate: epochs may grow on resume
        using var dir = new TempDirectory();
        using var straight = new Trainer<UNet>(training).Train(task, dir.File("straight"));
        new Trainer<UNet>(training with { Epochs = 2 }).Train(task, dir.File("resumed")).Dispose();
        using var resumed = new Trainer<UNet>(training).Train(task, dir.File("resumed"), resume: true);
        AssertSameWeights(straight.Model, resumed.Model);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void ExplicitCpuDevice_TrainsTheSameBitsAsTheDefault()
    {
        WithImages((train, test, dir) =>
        {
            var task = new VaeTask(train, test, TinyVae);
            using var byDefault = new Trainer<Vae>(Small with { Epochs = 2 }).Train(task, dir.File("default"));
            using var onCpu = new Trainer<Vae>(Small with { Epochs = 2 }, device: CPU).Train(task, dir.File("cpu"));
            AssertSameWeights(byDefault.Model, onCpu.Model);
            Assert.Equal(byDefault.History.Select(h => h.ValLoss), onCpu.History.Select(h => h.ValLoss));
        });
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void ChannelsLastAutoencoder_ResumesBitForBit_AndItsFileRunsChannelsLast()
    {
        WithImages((train, test, dir) =>
        {
            var config = new AutoencoderConfig { Features = [1, 4, 8, 2], ChannelsLast = true };
            var task = new AutoencoderTask(train, test, config);
            using var straight = new Trainer<ConvAutoencoder>(Small).Train(task, dir.File("straight"));
            Assert.True(straight.Model.ChannelsLastLayout);
            new Trainer<ConvAutoencoder>(Small with { Epochs = 2 }).Train(task, dir.File("resumed")).Dispose();
            using var resumed = new Trainer<ConvAutoencoder>(Small).Train(task, dir.File("resumed"), resume: true);
            AssertSameWeights(straight.Model, resumed.Model);

            using ConvAutoencoder loaded = ModelFile.LoadAutoencoder(dir.File("straight/" + RunDirectory.ModelFileName));
            Assert.Equal(config, loaded.Config);
            Assert.True(loaded.ChannelsLastLayout);

            // The layout changes the rounding, so a run cannot resume in the other one.
            var e = Assert.Throws<DataFormatException>(() =>
                new Trainer<ConvAutoencoder>(Small with { Epochs = 5 }).Train(new AutoencoderTask(train, test, config with { ChannelsLast = false }), dir.File("resumed"), resume: true));
            Assert.Contains(Checkpoint.FileName, e.Message);
        });
    }

    [Fact]
    public void ConfigsWithoutALayout_ReadAsNchw()
    {
        // Files written before the layout was a setting (the shipped models/autoencoder and vae) have no such field.
        var ae = System.Text.Json.JsonSerializer.Deserialize<AutoencoderConfig>("""{"Features":[1,8,16,32,4]}""")!;
        var vae = System.Text.Json.JsonSerializer.Deserialize<VaeConfig>("""{"Features":[1,8,16,32],"LatentChannels":4,"Sigma":"Raw","HeadChannels":0,"KlWeight":1}""")!;
        Assert.False(ae.ChannelsLast);
        Assert.False(vae.ChannelsLast);
        Assert.Equal(new AutoencoderConfig(), ae);
        Assert.Equal(new VaeConfig(), vae);
        Assert.NotEqual(new VaeConfig(), new VaeConfig { ChannelsLast = true });
        using var model = new Vae(new VaeConfig { ChannelsLast = true });
        Assert.True(model.ChannelsLastLayout);
    }
}
