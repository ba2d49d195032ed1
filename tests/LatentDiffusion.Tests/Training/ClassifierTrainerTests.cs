using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

[Collection("Torch")]
public sealed class ClassifierTrainerTests
{
    static readonly ClassifierTrainingConfig Small = new() { Epochs = 4, BatchSize = 64, LogEvery = 1, CheckpointEvery = 1, Seed = 7 };

    [Fact]
    public void Train_SameSeed_GivesBitIdenticalWeights()
    {
        var data = SyntheticData.Dataset();
        using var a = new ClassifierTrainer(Small with { Epochs = 2 }).Train(data.Train, data.Test, TestPaths.NewTempDirectory()).Model;
        using var b = new ClassifierTrainer(Small with { Epochs = 2 }).Train(data.Train, data.Test, TestPaths.NewTempDirectory()).Model;
        AssertSameWeights(a, b);
    }

    [Fact]
    public void Resume_TwoPlusTwoEpochs_EqualsFourEpochs()
    {
        var data = SyntheticData.Dataset();
        using var straight = new ClassifierTrainer(Small).Train(data.Train, data.Test, TestPaths.NewTempDirectory()).Model;

        string run = TestPaths.NewTempDirectory();
        new ClassifierTrainer(Small with { Epochs = 2 }).Train(data.Train, data.Test, run).Model.Dispose();
        manual_seed(12345);   // whatever happens to the global generator in between must not matter
        using var _ = rand(100);
        var resumed = new ClassifierTrainer(Small).Train(data.Train, data.Test, run, resume: true);
        using var model = resumed.Model;
        AssertSameWeights(straight, model);
        Assert.Equal([1, 2, 3, 4], resumed.History.Select(h => h.Epoch));
    }

    [Fact]
    public void Train_LossFallsOnLearnableData()
    {
        var data = SyntheticData.Dataset(600, 200);
        var result = new ClassifierTrainer(Small with { Epochs = 6, LearningRate = 3e-3 }).Train(data.Train, data.Test, TestPaths.NewTempDirectory());
        result.Model.Dispose();
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss * 0.8,
            $"train loss {result.History[0].TrainLoss} → {result.History[^1].TrainLoss}");
    }

    [Fact]
    public void Train_HugeLearningRate_StopsWithDivergedErrorAndKeepsLastGoodCheckpoint()
    {
        var data = SyntheticData.Dataset();
        string run = TestPaths.NewTempDirectory();
        new ClassifierTrainer(Small with { Epochs = 1, LearningRate = 1e-3 }).Train(data.Train, data.Test, run).Model.Dispose();
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        byte[] good = File.ReadAllBytes(checkpoint);

        // Same run continued with lr 1e6 would be refused (different settings), so diverge a fresh run instead and
        // check its own first checkpoint is never replaced by a NaN one.
        string run2 = TestPaths.NewTempDirectory();
        var e = Assert.Throws<TrainingDivergedException>(() =>
            new ClassifierTrainer(Small with { Epochs = 3, LearningRate = 1e6 }).Train(data.Train, data.Test, run2));
        Assert.Contains("diverged", e.Message);
        Assert.Empty(Directory.GetFiles(run2, "*.tmp"));
        if (File.Exists(Path.Combine(run2, Checkpoint.FileName)))
        {
            Checkpoint.State state = Checkpoint.ReadState(Path.Combine(run2, Checkpoint.FileName));
            Assert.True(state.Epoch < e.Epoch);
            Assert.All(state.History, h => Assert.True(double.IsFinite(h.TrainLoss)));
        }
        Assert.Equal(good, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void Resume_WithOtherSeed_IsRefusedNamingTheCheckpoint()
    {
        var data = SyntheticData.Dataset();
        string run = TestPaths.NewTempDirectory();
        new ClassifierTrainer(Small with { Epochs = 1 }).Train(data.Train, data.Test, run).Model.Dispose();
        var e = Assert.Throws<DataFormatException>(() =>
            new ClassifierTrainer(Small with { Seed = 8 }).Train(data.Train, data.Test, run, resume: true));
        Assert.Contains(Checkpoint.FileName, e.Message);
    }

    [Fact]
    public void Checkpoint_BitFlipOrTruncation_IsDetected()
    {
        var data = SyntheticData.Dataset();
        string run = TestPaths.NewTempDirectory();
        new ClassifierTrainer(Small with { Epochs = 1 }).Train(data.Train, data.Test, run).Model.Dispose();
        string path = Path.Combine(run, Checkpoint.FileName);
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
