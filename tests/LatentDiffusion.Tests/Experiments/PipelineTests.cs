using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Experiments;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Experiments;

/// <summary>
/// <see cref="Pipeline"/> end to end on a tiny coloured folder (64 training and 32 test images of ten classes, the
/// models shrunk): the model set is published with the data recorded, a rerun skips every stage, a stop inside a stage
/// resumes to the same weights as a run never stopped, and the folder refuses another dataset, another budget and a
/// second writer in one line.
/// </summary>
[Collection("Torch")]
public sealed class PipelineTests : IDisposable
{
    static readonly PipelineSettings Tiny = new()
    {
        ClassifierTraining = new TrainingConfig { Epochs = 2, BatchSize = 32, LogEvery = 1, CheckpointEvery = 1 },
        LatentVae = new VaeConfig { Features = [1, 4, 4, 8], LatentChannels = 2, Sigma = SigmaParameterization.LogVariance, HeadChannels = 8 },
        LatentVaeTraining = Recipes.LatentVae.Training with { Epochs = 2 },
        UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] },
        ConditionalTraining = Recipes.ConditionalTraining with { Epochs = 2, BatchSize = 32 },
        TimedSteps = 1,
        ReportSamples = 20,
    };

    static readonly string[] Names = [ModelSet.Classifier, ModelSet.LatentVae, ModelSet.Conditional];

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
        Assert.All(result.Stages, s => Assert.False(s.Skipped));
        Assert.Equal([2, 2, 2], result.Stages.Select(s => s.Epochs));
        foreach (string name in Names)
        {
            foreach (string suffix in new[] { ".safetensors", ".config.json", ".history.csv", ".history.json" })
                Assert.True(File.Exists(Path.Combine(outDir, name + suffix)), $"{name}{suffix} not published");
            Assert.Equal(File.ReadAllBytes(Path.Combine(outDir, Pipeline.TrainFolder, name, RunDirectory.ModelFileName)),
                File.ReadAllBytes(ModelSet.WeightsPath(outDir, name)));
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
        Assert.Equal(ModelWeights.Sha256(ModelSet.WeightsPath(outDir, ModelSet.LatentVae)), diffusion.VaeSha256);
        Assert.Equal(["started", "finished"], first.Lines.Where(l => l.Stage == 1 && l.Event != "epoch").Select(l => l.Event));
        Assert.Equal(0, first.Lines[^1].EtaSeconds);
        // The last stage: the FID table of the published set and its report.
        Assert.Equal(["Validation", "Random", "Latent VAE reconstructions", "Generator", "Generator, guided"], result.Table!.Rows.Select(r => r.Name));
        Assert.All(result.Table.Rows, r => Assert.True(double.IsFinite(r.Fid) && r.Manifold is not null && r.MemorisedFraction is not null, r.Name));
        Assert.Equal(data.Info.ClassNames, result.Table.Classes.Select(c => c.Name));
        foreach (string file in new[] { "index.html", "report.md", "results.json", "generated.png", "real.png" })
            Assert.True(File.Exists(Path.Combine(outDir, Pipeline.ReportFolder, file)), $"report/{file} missing");
        Assert.Equal(["report", "report"], first.Lines.Where(l => l.Stage == 4).Select(l => l.Name));

        var published = Names.ToDictionary(n => n, n => File.GetLastWriteTimeUtc(ModelSet.WeightsPath(outDir, n)));
        var second = new Recorder();
        PipelineResult again = Pipeline.Run(data, outDir, Tiny, second);
        Assert.All(again.Stages, s => Assert.True(s.Skipped));
        Assert.Equal(["skipped", "skipped", "skipped", "skipped"], second.Lines.Select(l => l.Event));   // the three stages and the report
        Assert.Null(again.Table);
        Assert.All(Names, n => Assert.Equal(published[n], File.GetLastWriteTimeUtc(ModelSet.WeightsPath(outDir, n))));   // nothing rewritten

        ColoredMnist.Write(SyntheticData.Dataset(64, 32), dir.File("other"), seed: 1);
        ImageDataset other = Datasets.Load(dir.File("other"));
        var e = Assert.Throws<DataFormatException>(() => Pipeline.Run(other, outDir, Tiny));
        Assert.Contains(data.Info.Describe(), e.Message);
        Assert.Contains(other.Info.Describe(), e.Message);
        Assert.DoesNotContain('\n', e.Message);
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
        Assert.Equal([true, false, false], result.Stages.Select(s => s.Skipped));
        Assert.Equal([1, 1, 1], result.Stages.Select(s => s.Epochs));
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
