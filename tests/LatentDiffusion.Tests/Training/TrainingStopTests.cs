using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// A stop request honoured between batches (<see cref="Trainer{TModel}.Train"/>'s token, which SIGINT/SIGTERM cancel in
/// the CLI): the checkpoint written mid-epoch resumes to the same bits as a run that was never stopped — for the
/// classifier, for the VAE (whose loss has parts summed over the epoch) and for the diffusion model with EMA and a cosine rate.
/// </summary>
[Collection("Torch")]
public sealed class TrainingStopTests
{
    /// <summary>Checkpoints only every 2 epochs, so a stop in epoch 3 has a finished epoch and part of another unsaved.</summary>
    static readonly TrainingConfig Small = new() { Epochs = 4, BatchSize = 32, LogEvery = 1, CheckpointEvery = 2, Seed = 11 };

    /// <summary>Requests a stop when batch <paramref name="batch"/> of epoch <paramref name="epoch"/> has finished.</summary>
    sealed class StopAt(int epoch, int batch) : ITrainingObserver, IDisposable
    {
        readonly CancellationTokenSource source = new();

        public CancellationToken Token => source.Token;

        public void BatchFinished(int current, int finished)
        {
            if (current == epoch && finished == batch) source.Cancel();
        }

        public void Dispose() => source.Dispose();
    }

    static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(t.equal(sb[name]).all().item<bool>(), $"{name} differs");
    }

    /// <summary>Histories equal in everything but the wall-clock seconds.</summary>
    static void AssertSameHistory(IReadOnlyList<EpochLog> expected, IReadOnlyList<EpochLog> actual) =>
        Assert.Equal(expected.Select(h => h with { Seconds = 0 }), actual.Select(h => h with { Seconds = 0 }));

    /// <summary>
    /// Trains straight, then with a stop requested after batch <paramref name="batch"/> of epoch <paramref name="epoch"/>
    /// and resumed; both must give the same weights and history. The checkpoint must record the interrupted epoch as
    /// <paramref name="stoppedIn"/> (default: that epoch and batch).
    /// </summary>
    static TrainingStoppedException StopAndResume<TModel>(ITrainingTask<TModel> task, TrainingConfig config, int epoch, int batch,
        (int Epoch, int Batches)? stoppedIn = null) where TModel : nn.Module
    {
        var (stopEpoch, stopBatches) = stoppedIn ?? (epoch, batch);
        using var dir = new TempDirectory();
        using var straight = new Trainer<TModel>(config).Train(task, dir.File("straight"));
        string run = dir.File("stopped");
        using var stopAt = new StopAt(epoch, batch);
        var stopped = Assert.Throws<TrainingStoppedException>(() => new Trainer<TModel>(config, stopAt).Train(task, run, cancel: stopAt.Token));
        Checkpoint.State state = Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName));
        Assert.Equal(stopEpoch - 1, state.Epoch);
        Assert.NotNull(state.Partial);
        Assert.Equal((stopEpoch, stopBatches), (state.Partial.Epoch, state.Partial.Batches));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ModelFileName)));

        manual_seed(4242);                                       // the global generator in between must not matter
        using var resumed = new Trainer<TModel>(config).Train(task, run, resume: true);
        AssertSameWeights(straight.Model, resumed.Model);
        AssertSameHistory(straight.History, resumed.History);
        Assert.Null(Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Partial);
        return stopped;
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Classifier_StoppedMidEpoch_ResumesToTheSameWeights()
    {
        var data = SyntheticData.Dataset(200, 64);
        using var task = new ClassifierTask(data.Train, data.Test);
        TrainingStoppedException e = StopAndResume(task, Small, epoch: 3, batch: 2);
        Assert.True(e.Saved);
        Assert.Equal((3, 2), (e.Epoch, e.Batch));
        Assert.Contains("in epoch 3 after 2 of 7 batches", e.Message);
        Assert.Contains(Checkpoint.FileName, e.Message);
    }

    [Fact]
    public void Vae_StoppedMidEpoch_ResumesToTheSameWeightsAndLossParts()
    {
        var data = SyntheticData.Dataset(96, 32);
        using Tensor train = data.Train.ToInputs(), test = data.Test.ToInputs();
        var task = new VaeTask(train, test, new VaeConfig { Features = [1, 4, 4, 8] });
        StopAndResume(task, Small, epoch: 2, batch: 1);
    }

    [Fact]
    public void DiffusionWithEmaAndCosine_StoppedMidEpoch_ResumesToTheSameWeights()
    {
        manual_seed(6);
        using Tensor train = randn(64, 2, 4, 4);
        using Tensor test = randn(32, 2, 4, 4);
        using var task = new DiffusionTask(train, test, new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] }, Steps = 50 });
        StopAndResume(task, Small with { EmaDecay = 0.9, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 2 }, epoch: 3, batch: 1);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void StopAfterTheLastBatchOfAnEpoch_StopsAtTheStartOfTheNext()
    {
        // The request comes with epoch 1's last batch: epoch 1 is validated as usual, epoch 2 draws its permutation, and
        // the run stops before epoch 2's first batch with that permutation saved (nothing of epoch 1 was checkpointed yet).
        var data = SyntheticData.Dataset(200, 64);
        using var task = new ClassifierTask(data.Train, data.Test);
        TrainingStoppedException e = StopAndResume(task, Small, epoch: 1, batch: 7, stoppedIn: (2, 0));
        Assert.Contains("at the start of epoch 2", e.Message);
    }

    [Fact]
    public void StopBeforeAnyBatch_WritesNoCheckpoint()
    {
        var data = SyntheticData.Dataset(200, 64);
        using var task = new ClassifierTask(data.Train, data.Test);
        using var dir = new TempDirectory();
        var e = Assert.Throws<TrainingStoppedException>(() => new Trainer<Classifier>(Small).Train(task, dir.Path, cancel: new CancellationToken(canceled: true)));
        Assert.Null(e.Checkpoint);
        Assert.False(e.Saved);
        Assert.False(File.Exists(dir.File(Checkpoint.FileName)));
    }

    [Fact]
    public void StopRightAfterACheckpoint_KeepsItAsItIs()
    {
        var data = SyntheticData.Dataset(200, 64);
        using var task = new ClassifierTask(data.Train, data.Test);
        using var dir = new TempDirectory();
        using var stopAt = new StopAt(2, 7);            // epoch 2's last batch; epoch 2 ends with a checkpoint (every 2)
        var e = Assert.Throws<TrainingStoppedException>(() => new Trainer<Classifier>(Small, stopAt).Train(task, dir.Path, cancel: stopAt.Token));
        Assert.False(e.Saved);
        Assert.Equal(dir.File(Checkpoint.FileName), e.Checkpoint);
        Checkpoint.State state = Checkpoint.ReadState(dir.File(Checkpoint.FileName));
        Assert.Equal(2, state.Epoch);
        Assert.Null(state.Partial);
    }
}
