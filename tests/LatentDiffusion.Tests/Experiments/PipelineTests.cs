using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Export.Onnx;
using LatentDiffusion.Onnx;
using LatentDiffusion.Onnx.Sampling;
using LatentDiffusion.Sampling;
using LatentDiffusion.Experiments;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Experiments;

/// <summary>
/// <see cref="Pipeline"/> end to end on a tiny coloured folder (64 training and 32 test images of ten classes, the
/// models shrunk): the model set is published with the data recorded and the tuned decoder as its VAE (or the trained
/// VAE without the tuning stages), a rerun skips every stage, a stop inside a stage resumes to the same weights as a run
/// never stopped, and the folder refuses another dataset, another budget, another choice of decoder tuning and a second
/// writer in one line.
/// </summary>
[Collection("Torch")]
public sealed class PipelineTests : IDisposable
{
    static readonly PipelineSettings Tiny = new()
    {
        ClassifierTraining = new TrainingConfig { Epochs = 2, BatchSize = 32, LogEvery = 1, CheckpointEvery = 1 },
        LatentVae = new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2, Sigma = SigmaParameterization.LogVariance, HeadChannels = 8 },
        LatentVaeTraining = Recipes.LatentVae.Training with { Epochs = 2 },
        DecoderTuningTraining = Recipes.DecoderTuning with { Epochs = 2, BatchSize = 32 },
        UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] },
        ConditionalTraining = Recipes.ConditionalTraining with { Epochs = 2, BatchSize = 32 },
        TimedSteps = 1,
        ReportSamples = 20,
    };

    static readonly string[] Names = [ModelSet.Classifier, ModelSet.LatentVae, ModelSet.Conditional];

    /// <summary>The stages in order, with decoder tuning (the default) and without.</summary>
    static readonly string[] TunedStages =
        [ModelSet.Classifier, ModelSet.LatentVae, Pipeline.PerceptualClassifierStage, Pipeline.DecoderTuningStage, ModelSet.Conditional];
    static readonly string[] UntunedStages = [ModelSet.Classifier, ModelSet.LatentVae, ModelSet.Conditional];

    /// <summary>The run whose model a model-set name publishes: the tuned decoder's for the VAE, with decoder tuning.</summary>
    static string RunOf(string outDir, string name, bool tuned = true) => Path.Combine(outDir, Pipeline.TrainFolder,
        tuned && name == ModelSet.LatentVae ? Pipeline.DecoderTuningStage : name, RunDirectory.ModelFileName);

    readonly TempDirectory dir = new();
    readonly ImageDataset data;

    public PipelineTests()
    {
        ColoredMnist.Write(SyntheticData.Dataset(64, 32), dir.File("colored"), seed: 0);
        data = Datasets.Load(dir.File("colored"));
    }

    public void Dispose() => dir.Dispose();

    sealed class Recorder : IPipelineObserver
    {
        public List<PipelineProgress> Lines { get; } = [];
        public List<string> Notices { get; } = [];
        public void Notice(string line) => Notices.Add(line);
        public void Progress(PipelineProgress progress) => Lines.Add(progress);
    }

    [Fact]
    public void Run_TinyFolder_PublishesTheModelSetWithTheData_AndARerunSkipsEveryStage()
    {
        string outDir = dir.File("run");
        var first = new Recorder();
        PipelineResult result = Pipeline.Run(data, outDir, Tiny, first);

        Assert.Equal(outDir, result.ModelSet);
        Assert.Equal(TunedStages, result.Stages.Select(s => s.Name));
        Assert.Equal(TunedStages, PipelineRecord.Read(outDir)!.Plan.Stages.Select(s => s.Name));
        Assert.True(PipelineRecord.Read(outDir)!.DecoderTuning);
        Assert.All(result.Stages, s => Assert.False(s.Skipped));
        Assert.Equal([2, 2, 2, 2, 2], result.Stages.Select(s => s.Epochs));
        foreach (string name in Names)
        {
            foreach (string suffix in new[] { ".safetensors", ".config.json", ".history.csv", ".history.json" })
                Assert.True(File.Exists(Path.Combine(outDir, name + suffix)), $"{name}{suffix} not published");
            Assert.Equal(File.ReadAllBytes(RunOf(outDir, name)), File.ReadAllBytes(ModelSet.WeightsPath(outDir, name)));
            DatasetInfo recorded = ModelFile.ReadData(ModelSet.WeightsPath(outDir, name))!;
            Assert.Equal((3, 32, data.Info.ContentSha256), (recorded.Channels, recorded.Resolution, recorded.ContentSha256));
            Assert.Equal(data.Info.ClassNames, recorded.ClassNames);
            using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, name + ".config.json")));
            Assert.Equal(3, config.RootElement.GetProperty("Data").GetProperty("Channels").GetInt32());
            Assert.Equal(2, config.RootElement.GetProperty("Training").GetProperty("Epochs").GetInt32());
        }
        Assert.True(File.Exists(Path.Combine(outDir, "conditional.raw.safetensors")));   // the recipe's EMA: raw weights beside, as in models/
        (UNet unet, var diffusion) = ModelFile.LoadDiffusion(ModelSet.WeightsPath(outDir, ModelSet.Conditional));
        unet.Dispose();
        Assert.Equal(10, diffusion.UNet.Classes);
        // The model set's VAE is the decoder tuned from the trained VAE, which stays in its run: the same encoder, and so the
        // same latents the generator was trained on (it records the trained VAE's SHA-256).
        string baseVae = result.Weights(ModelSet.LatentVae), tunedVae = ModelSet.WeightsPath(outDir, ModelSet.LatentVae);
        Assert.Equal(Path.Combine(outDir, Pipeline.TrainFolder, ModelSet.LatentVae, RunDirectory.ModelFileName), baseVae);
        Assert.Equal(tunedVae, result.Weights(Pipeline.DecoderTuningStage));
        Assert.Equal(RunOf(outDir, Pipeline.PerceptualClassifierStage), result.Weights(Pipeline.PerceptualClassifierStage));
        Assert.False(File.Exists(ModelSet.WeightsPath(outDir, Pipeline.PerceptualClassifierStage)));
        using (Vae tuned = ModelFile.LoadVae(tunedVae))
        using (Vae trained = ModelFile.LoadVae(baseVae))
        {
            Assert.Equal(ModelWeights.Sha256(baseVae), tuned.Config.Tuning?.BaseSha256);
            Assert.Equal(ModelWeights.Sha256(result.Weights(Pipeline.PerceptualClassifierStage)), tuned.Config.Tuning!.ClassifierSha256);
            Assert.Equal(Recipes.DecoderFeatureWeight, tuned.Config.Tuning.FeatureWeight);
            Assert.Equal(DecoderTuningTask.EncoderSha256(trained), DecoderTuningTask.EncoderSha256(tuned));
            Assert.Equal(DecoderTuningTask.EncoderSha256(trained), tuned.Config.Tuning.EncoderSha256);
        }
        Assert.Equal(ModelWeights.Sha256(baseVae), diffusion.VaeSha256);
        Assert.Equal(VaeRelation.TunedDecoder, VaeLineage.Of(diffusion.VaeSha256, tunedVae));
        // The perceptual classifier is the classifier's recipe at the next seed: not the FID's net.
        Assert.Equal(Tiny.ClassifierTraining.Seed + 1, ReadTraining(outDir, Pipeline.PerceptualClassifierStage).Seed);
        Assert.Equal(Tiny.ClassifierTraining.Seed, ReadTraining(outDir, ModelSet.Classifier).Seed);
        Assert.Equal(["started", "finished"], first.Lines.Where(l => l.Stage == 1 && l.Event != "epoch").Select(l => l.Event));
        Assert.Equal(0, first.Lines[^1].EtaSeconds);
        // The last stage: the FID table of the published set and its report.
        Assert.Equal(["Validation", "Random", "Latent VAE reconstructions", "Generator", "Generator, guided"], result.Table!.Rows.Select(r => r.Name));
        Assert.All(result.Table.Rows, r => Assert.True(double.IsFinite(r.Fid) && r.Manifold is not null && r.MemorisedFraction is not null, r.Name));
        Assert.Equal(data.Info.ClassNames, result.Table.Classes.Select(c => c.Name));
        foreach (string file in new[] { "index.html", "report.md", "results.json", "generated.png", "real.png" })
            Assert.True(File.Exists(Path.Combine(outDir, Pipeline.ReportFolder, file)), $"report/{file} missing");
        Assert.Equal(["report", "report"], first.Lines.Where(l => l.Stage == 6).Select(l => l.Name));

        var published = Names.ToDictionary(n => n, n => File.GetLastWriteTimeUtc(ModelSet.WeightsPath(outDir, n)));
        var second = new Recorder();
        PipelineResult again = Pipeline.Run(data, outDir, Tiny, second);
        Assert.All(again.Stages, s => Assert.True(s.Skipped));
        Assert.Equal(["skipped", "skipped", "skipped", "skipped", "skipped", "skipped"], second.Lines.Select(l => l.Event));   // the five stages and the report
        Assert.Null(again.Table);
        Assert.All(Names, n => Assert.Equal(published[n], File.GetLastWriteTimeUtc(ModelSet.WeightsPath(outDir, n))));   // nothing rewritten

        ColoredMnist.Write(SyntheticData.Dataset(64, 32), dir.File("other"), seed: 1);
        ImageDataset other = Datasets.Load(dir.File("other"));
        var e = Assert.Throws<DataFormatException>(() => Pipeline.Run(other, outDir, Tiny));
        Assert.Contains(data.Info.Describe(), e.Message);
        Assert.Contains(other.Info.Describe(), e.Message);
        Assert.DoesNotContain('\n', e.Message);

        var untuned = Assert.Throws<DataFormatException>(() => Pipeline.Run(data, outDir, Tiny with { DecoderTuning = false }));
        Assert.Contains("Leave out --no-decoder-tuning to resume it", untuned.Message);
        Assert.DoesNotContain('\n', untuned.Message);
    }

    /// <summary>
    /// Without decoder tuning: the three stages of before, the trained VAE published as the model set's VAE, no
    /// perceptual classifier trained, and the folder refuses a resume that asks for the tuning.
    /// </summary>
    [Fact]
    public void Run_WithoutDecoderTuning_TrainsThreeStages_AndPublishesTheTrainedVae()
    {
        string outDir = dir.File("untuned");
        PipelineSettings untuned = Tiny with { DecoderTuning = false };
        PipelineResult result = Pipeline.Run(data, outDir, untuned, new Recorder());

        Assert.Equal(UntunedStages, result.Stages.Select(s => s.Name));
        PipelineRecord record = PipelineRecord.Read(outDir)!;
        Assert.Equal(UntunedStages, record.Plan.Stages.Select(s => s.Name));
        Assert.False(record.DecoderTuning);
        foreach (string name in Names)
            Assert.Equal(File.ReadAllBytes(RunOf(outDir, name, tuned: false)), File.ReadAllBytes(ModelSet.WeightsPath(outDir, name)));
        string vaePath = ModelSet.WeightsPath(outDir, ModelSet.LatentVae);
        Assert.Equal(vaePath, result.Weights(ModelSet.LatentVae));
        using (Vae vae = ModelFile.LoadVae(vaePath)) Assert.Null(vae.Config.Tuning);
        (UNet unet, var diffusion) = ModelFile.LoadDiffusion(ModelSet.WeightsPath(outDir, ModelSet.Conditional));
        unet.Dispose();
        Assert.Equal(ModelWeights.Sha256(vaePath), diffusion.VaeSha256);
        Assert.False(Directory.Exists(Path.Combine(outDir, Pipeline.TrainFolder, Pipeline.PerceptualClassifierStage)));
        Assert.False(Directory.Exists(Path.Combine(outDir, Pipeline.TrainFolder, Pipeline.DecoderTuningStage)));
        Assert.Equal(["Validation", "Random", "Latent VAE reconstructions", "Generator", "Generator, guided"], result.Table!.Rows.Select(r => r.Name));

        Assert.All(Pipeline.Run(data, outDir, untuned).Stages, s => Assert.True(s.Skipped));
        var e = Assert.Throws<DataFormatException>(() => Pipeline.Run(data, outDir, Tiny));
        Assert.Contains("without decoder tuning", e.Message);
        Assert.Contains("Give --no-decoder-tuning to resume it", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>
    /// A VAE with one level fewer gives 8x8 latents, and everything downstream follows the model files: the generator's
    /// config records the side (and only then: a 4x4 model's config does not name it), sampling and the report run, the
    /// ONNX export declares (B, C, 8, 8), and ldm-lite's digits from the same noise are TorchSharp's.
    /// </summary>
    [Fact]
    public void Run_WithEightByEightLatents_TrainsSamplesReportsAndExportsAtThatSide()
    {
        string outDir = dir.File("side8");
        PipelineSettings side8 = Tiny with { DecoderTuning = false, LatentVae = Tiny.LatentVae.ForLatentSide(8) };
        Assert.Equal([1, 4, 8], side8.LatentVae.Features);
        PipelineResult result = Pipeline.Run(data, outDir, side8, new Recorder());

        string vaePath = ModelSet.WeightsPath(outDir, ModelSet.LatentVae), modelPath = ModelSet.WeightsPath(outDir, ModelSet.Conditional);
        using (Vae vae = ModelFile.LoadVae(vaePath)) Assert.Equal([2L, 8, 8], vae.LatentShape);
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
        using var _ = unet;
        Assert.Equal([2L, 8, 8], config.LatentShape);
        Assert.Equal(8, config.UNet.LatentSide);
        using (JsonDocument written = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, ModelSet.Conditional + ".config.json"))))
            Assert.Equal(8, written.RootElement.GetProperty("Model").GetProperty("UNet").GetProperty("LatentSide").GetInt32());
        Assert.All(result.Table!.Rows, r => Assert.True(double.IsFinite(r.Fid), r.Name));

        string onnx = dir.File("side8-onnx");
        OnnxExport.Export([modelPath, vaePath], onnx);
        using LiteGenerator lite = LiteGenerator.Open(Path.Combine(onnx, ModelSet.Conditional + ".onnx"), Path.Combine(onnx, ModelSet.LatentVae + ".decoder.onnx"));
        Assert.Equal([2, 8, 8], lite.UNet.Info.LatentShape);
        const int n = 4;
        const long seed = 5;
        int[] labels = [0, 3, 7, 9];
        var options = new SamplingOptions { Steps = 4, BatchSize = n, Labels = labels, Guidance = Recipes.Guidance, GuidanceInterval = Recipes.GuidanceInterval };
        using Vae decoder = ModelFile.LoadVae(vaePath);
        using LatentSamples ours = LatentDiffusionSampler.Generate(unet, config, decoder, n, seed, options);
        float[] noise;
        using (var generator = new TorchSharp.torch.Generator(unchecked((ulong)seed)))
        using (var x1 = TorchSharp.torch.randn([n, .. config.LatentShape], generator: generator))
            noise = x1.data<float>().ToArray();
        var request = new LiteRequest { Count = n, Steps = 4, BatchSize = n, Labels = labels };
        (ILiteSampler sampler, int steps) = lite.Resolve(request);
        float[] theirs = lite.Decode(lite.SampleLatents(noise, n, sampler, steps, request, labels.Select(l => (long)l).ToArray(), new Gaussian(0)), n);
        float[] images = ours.Images.detach().cpu().contiguous().data<float>().ToArray();
        Assert.Equal(images.Length, theirs.Length);
        Assert.True(images.Zip(theirs, (a, b) => Math.Abs(a - b)).Max() <= 1e-3);

        var other = Assert.Throws<DataFormatException>(() => Pipeline.Run(data, outDir, Tiny with { DecoderTuning = false }));   // the 4x4 VAE: another side
        Assert.Contains("\"Features\":[3,4,8]", other.Message);
        Assert.Contains("Use another --out", other.Message);
        Assert.DoesNotContain('\n', other.Message);
    }

    static TrainingConfig ReadTraining(string outDir, string run)
    {
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, Pipeline.TrainFolder, run, RunDirectory.ConfigFileName)));
        return config.RootElement.GetProperty("Training").Deserialize<TrainingConfig>()!;
    }

    /// <summary>A stop in the VAE's first epoch, then a rerun: the classifier is skipped, the VAE resumed, and every weight is the uninterrupted run's.</summary>
    [Fact]
    public void Run_StoppedInsideAStage_ResumesToTheWeightsOfARunNeverStopped_WithTheBudgetsPlanRecorded()
    {
        var budget = Tiny with { BudgetMinutes = 1e-4 };   // below one epoch of each: one epoch each, whatever the timing
        var whole = new Recorder();
        Pipeline.Run(data, dir.File("whole"), budget, whole);
        Assert.Contains(whole.Notices, n => n.Contains("--budget-minutes", StringComparison.Ordinal));

        string outDir = dir.File("stopped");
        using var stop = new CancellationTokenSource();
        var stopper = new StoppingObserver(ModelSet.LatentVae, stop);
        Assert.Throws<TrainingStoppedException>(() => Pipeline.Run(data, outDir, budget, stopper, stop.Token));
        Assert.True(File.Exists(ModelSet.WeightsPath(outDir, ModelSet.Classifier)));
        Assert.False(File.Exists(ModelSet.WeightsPath(outDir, ModelSet.LatentVae)));

        var resumed = new Recorder();
        PipelineResult result = Pipeline.Run(data, outDir, budget, resumed);
        Assert.Equal([true, false, false, false, false], result.Stages.Select(s => s.Skipped));
        Assert.Equal([1, 1, 1, 1, 1], result.Stages.Select(s => s.Epochs));
        foreach (string name in Names)
        {
            Assert.Equal(File.ReadAllBytes(ModelSet.WeightsPath(dir.File("whole"), name)), File.ReadAllBytes(ModelSet.WeightsPath(outDir, name)));
            using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, name + ".config.json")));
            Assert.Equal(1, config.RootElement.GetProperty("Training").GetProperty("Epochs").GetInt32());
        }
        PipelineRecord record = PipelineRecord.Read(outDir)!;
        Assert.Equal(1e-4, record.Plan.BudgetMinutes);
        Assert.All(record.Plan.Stages, s => Assert.Equal(1, s.Epochs));

        var e = Assert.Throws<DataFormatException>(() => Pipeline.Run(data, outDir, Tiny));   // no budget now: another plan
        Assert.Contains("--budget-minutes", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Run_CorruptImage_FailsNamingIt_OrWithSkipBadIsCountedAndLeftOutOfTheHash()
    {
        string folder = dir.File("colored");
        File.WriteAllBytes(Path.Combine(folder, "train", "3", "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var e = Assert.Throws<DataFormatException>(() => Pipeline.Run(folder, new DatasetOptions(), dir.File("strict"), Tiny));
        Assert.Contains("broken.png", e.Message);
        Assert.False(Directory.Exists(dir.File("strict")));

        var notes = new Recorder();
        PipelineResult result = Pipeline.Run(folder, new DatasetOptions { SkipBad = true }, dir.File("run"), Tiny, notes);
        Assert.Contains(notes.Notices, n => n.Contains("1 unreadable images skipped", StringComparison.Ordinal));
        Assert.Equal(data.Info.ContentSha256, PipelineRecord.Read(result.ModelSet)!.Data.ContentSha256);   // the same images as without the broken file
        Assert.Equal(data.Info.ContentSha256, ModelFile.ReadData(result.Weights(ModelSet.Conditional))!.ContentSha256);
    }

    [Fact]
    public void Run_FolderLockedByAnotherPipeline_IsRefusedInOneLine()
    {
        string outDir = dir.File("locked");
        using (RunLock.Acquire(outDir))
        {
            var e = Assert.Throws<RunLockedException>(() => Pipeline.Run(data, outDir, Tiny));
            Assert.Contains(outDir, e.Message);
        }
        Assert.False(File.Exists(Path.Combine(outDir, PipelineRecord.FileName)));
    }

    [Fact]
    public void Run_OutFolderHoldingOtherFiles_IsRefusedBeforeLoading()
    {
        string outDir = dir.File("mine");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "mine");
        var e = Assert.Throws<DataFormatException>(() => Pipeline.Run(dir.File("colored"), new DatasetOptions(), outDir, Tiny));
        Assert.Contains("notes.txt", e.Message);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName));
    }

    /// <summary>Cancels <paramref name="stop"/> after the first batch of stage <paramref name="stage"/>.</summary>
    sealed class StoppingObserver(string stage, CancellationTokenSource stop) : IPipelineObserver, ITrainingObserver
    {
        bool inStage;
        public void Progress(PipelineProgress progress)
        {
            if (progress.Event == "started") inStage = progress.Name == stage;
        }
        public ITrainingObserver? Training => this;
        public void BatchFinished(int epoch, int batch)
        {
            if (inStage) stop.Cancel();
        }
    }
}
