using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Training;

[Collection("Torch")]
public sealed class AveragedBatchNormTests
{
    [Trait("Category", "Slow")]
    [Fact]
    public void Recompute_GivesTheStatisticsOfTheTrainingData_AndRestoresMomentumAndMode()
    {
        // One batch holding the whole (small) training set: the eval-mode output then normalises with that set's own
        // statistics, as the train-mode output does (up to the unbiased variance the running statistics keep).
        var data = SyntheticData.Dataset(48, 16);
        using Tensor train = data.Train.ToInputs(), test = data.Test.ToInputs();
        var task = new AutoencoderTask(train, test, new AutoencoderConfig { Features = [1, 4, 8, 2] });
        manual_seed(1);
        using ConvAutoencoder model = task.CreateModel();
        using (no_grad())
            foreach (var norm in model.modules().OfType<BatchNorm>()) { norm.running_mean!.fill_(5); norm.running_var!.fill_(40); }
        model.eval();
        double garbage = EvalAgainstTrain(model, train);
        AveragedBatchNorm.Recompute(task, model, batchSize: 64, seed: 2);
        Assert.False(model.training);
        Assert.All(model.modules().OfType<BatchNorm>(), n => Assert.Equal(0.1, n.momentum));
        Assert.All(model.modules().OfType<BatchNorm>(), n => Assert.Equal(1L, n.num_batches_tracked!.item<long>()));
        double relative = EvalAgainstTrain(model, train);
        Assert.True(garbage > 0.1, $"before: eval output only {garbage:E2} from the train-mode output");
        Assert.True(relative < 5e-3, $"eval output {relative:E2} from the train-mode output (before: {garbage:E2})");
    }

    /// <summary>max |eval output − train-mode output| / max |train-mode output| on <paramref name="x"/>; the model's statistics and mode are left as they were.</summary>
    static double EvalAgainstTrain(ConvAutoencoder model, Tensor x)
    {
        using var scope = NewDisposeScope();
        var kept = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var noGrad = no_grad();
        model.eval();
        Tensor evalOut = model.forward(x);
        model.train();
        Tensor trainOut = model.forward(x);
        model.eval();
        foreach (var (name, t) in model.state_dict()) t.copy_(kept[name]);
        return (evalOut - trainOut).abs().max().item<float>() / trainOut.abs().max().item<float>();
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Recompute_IsDeterministic_ForASeed_AndLeavesParametersAlone()
    {
        var data = SyntheticData.Dataset(200, 16);
        using Tensor train = data.Train.ToInputs(), test = data.Test.ToInputs();
        var task = new VaeTask(train, test, new VaeConfig { Features = [1, 4, 4, 8] });
        manual_seed(3);
        using Vae a = task.CreateModel();
        using Vae b = task.CreateModel();
        b.load_state_dict(a.state_dict());
        var before = a.parameters().Select(p => p.detach().clone()).ToList();
        AveragedBatchNorm.Recompute(task, a, batchSize: 32, seed: 4, batches: 3);
        AveragedBatchNorm.Recompute(task, b, batchSize: 32, seed: 4, batches: 3);
        foreach (var ((name, x), (_, y)) in a.state_dict().Zip(b.state_dict()))
            Assert.True(x.equal(y).all().item<bool>(), $"{name} differs between two recomputations");
        Assert.All(a.parameters().Zip(before), pair => Assert.True(pair.First.equal(pair.Second).all().item<bool>()));
        Assert.Equal(3L, a.state_dict()["encoder.layers.0.0._norm.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Recompute_LeavesAModelWithoutBatchNormAsItIs()
    {
        var config = new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 2, Widths = [8, 16] }, Steps = 20 };
        manual_seed(5);
        using Tensor train = randn(40, 2, 4, 4), test = randn(8, 2, 4, 4);
        using var task = new DiffusionTask(train, test, config);
        using UNet model = task.CreateModel();
        Assert.False(AveragedBatchNorm.Applies(model));
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        AveragedBatchNorm.Recompute(task, model, batchSize: 16, seed: 6);
        foreach (var (name, t) in model.state_dict()) Assert.True(t.equal(before[name]).all().item<bool>(), $"{name} changed");
    }
}
