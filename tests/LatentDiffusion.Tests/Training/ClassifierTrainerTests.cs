using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

[Collection("Torch")]
public sealed class ClassifierTrainerTests
{
    static readonly TrainingConfig Small = new() { Epochs = 4, BatchSize = 64, LogEvery = 1, CheckpointEvery = 1, Seed = 7 };

    [Trait("Category", "Slow")]
    [Fact]
    public void Train_SameSeed_GivesBitIdenticalWeights()
    {
        using var dir = new TempDirectory();
        var data = SyntheticData.Dataset();
        using var a = ClassifierTask.Train(Small with { Epochs = 2 }, data.Train, data.Test, dir.File("a")).Model;
        using var b = ClassifierTask.Train(Small with { Epochs = 2 }, data.Train, data.Test, dir.File("b")).Model;
        AssertSameWeights(a, b);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Resume_TwoPlusTwoEpochs_EqualsFourEpochs()
    {
        using var dir = new TempDirectory();
        var data = SyntheticData.Dataset();
        using var straight = ClassifierTask.Train(Small, data.Train, data.Test, dir.File("straight")).Model;

        string run = dir.File("resumed");
        ClassifierTask.Train(Small with { Epochs = 2 }, data.Train, data.Test, run).Model.Dispose();
        manual_seed(12345);   // whatever happens to the global generator in between must not matter
        using var _ = rand(100);
        var resumed = ClassifierTask.Train(Small, data.Train, data.Test, run, resume: true);
        using var model = resumed.Model;
        AssertSameWeights(straight, model);
        Assert.Equal([1, 2, 3, 4], resumed.History.Select(h => h.Epoch));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Train_LossFallsOnLearnableData()
    {
        using var dir = new TempDirectory();
        var data = SyntheticData.Dataset(600, 200);
        var result = ClassifierTask.Train(Small with { Epochs = 6, LearningRate = 3e-3 }, data.Train, data.Test, dir.Path);
        result.Model.Dispose();
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss * 0.8,
            $"train loss {result.History[0].TrainLoss} → {result.History[^1].TrainLoss}");
    }

    [Fact]
    public void Train_HugeLearningRate_StopsWithDivergedError()
    {
        var data = SyntheticData.Dataset();
        using var run = new TempDirectory();
        var e = Assert.Throws<TrainingDivergedException>(() =>
            ClassifierTask.Train(Small with { Epochs = 3, LearningRate = 1e6 }, data.Train, data.Test, run.Path));
        Assert.Contains("diverged", e.Message);
        Assert.Empty(Directory.GetFiles(run.Path, "*" + AtomicFile.TempSuffix));
        Assert.False(File.Exists(run.File(RunDirectory.ModelFileName)));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Train_LossTurningNaNMidRun_KeepsTheLastGoodCheckpoint()
    {
        var data = SyntheticData.Dataset();
        using var run = new TempDirectory();
        var e = Assert.Throws<TrainingDivergedException>(() =>
            ClassifierTask.Train(Small, data.Train, data.Test, run.Path, observer: new PoisonAtEpoch(3)));
        Assert.Equal(3, e.Epoch);
        string checkpoint = run.File(Checkpoint.FileName);
        Assert.Contains(checkpoint, e.Message);
        Checkpoint.State state = Checkpoint.ReadState(checkpoint);
        Assert.Equal(2, state.Epoch);
        Assert.All(state.History, h => Assert.True(double.IsFinite(h.TrainLoss)));

        // The kept checkpoint resumes to a finite run.
        var resumed = ClassifierTask.Train(Small, data.Train, data.Test, run.Path, resume: true);
        using var model = resumed.Model;
        Assert.True(double.IsFinite(resumed.History[^1].TrainLoss));
        Assert.Empty(Directory.GetFiles(run.Path, "*" + AtomicFile.TempSuffix));
    }

    /// <summary>Sets a weight to NaN when the given epoch starts, as a numerical fault would.</summary>
    sealed class PoisonAtEpoch(int epoch) : ITrainingObserver
    {
        Classifier? model;

        public void TrainingStarted(nn.Module model, int firstEpoch) => this.model = (Classifier)model;

        public void EpochStarted(int current, int epochs, int batches)
        {
            if (current != epoch || model is null) return;
            using var noGrad = no_grad();
            model.parameters().First().fill_(double.NaN);
        }
    }

    [Fact]
    public void Resume_WithOtherSeed_IsRefusedNamingTheCheckpoint()
    {
        var data = SyntheticData.Dataset();
        using var run = new TempDirectory();
        ClassifierTask.Train(Small with { Epochs = 1 }, data.Train, data.Test, run.Path).Model.Dispose();
        var e = Assert.Throws<DataFormatException>(() =>
            ClassifierTask.Train(Small with { Seed = 8 }, data.Train, data.Test, run.Path, resume: true));
        Assert.Contains(Checkpoint.FileName, e.Message);
    }

    [Fact]
    public void Checkpoint_BitFlipOrTruncation_IsDetected()
    {
        var data = SyntheticData.Dataset();
        using var run = new TempDirectory();
        ClassifierTask.Train(Small with { Epochs = 1 }, data.Train, data.Test, run.Path).Model.Dispose();
        string path = run.File(Checkpoint.FileName);
        byte[] bytes = File.ReadAllBytes(path);

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, flipped);
        Assert.Contains("checksum", Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(path)).Message);

        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        Assert.Contains(path, Assert.Throws<DataFormatException>(() => Checkpoint.ReadState(path)).Message);
    }

    internal static void AssertSameWeights(Classifier a, Classifier b)
    {
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict())
            Assert.True(t.equal(sb[name]).all().item<bool>(), $"{name} differs");
    }
}
