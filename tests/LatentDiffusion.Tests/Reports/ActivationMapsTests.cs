using LatentDiffusion.Data;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

[Collection("Torch")]
public class ActivationMapsTests
{
    [Theory]
    [InlineData(2, 8, 16)]
    [InlineData(5, 16, 8)]
    [InlineData(8, 32, 2)]
    public void Compute_MatchesThePerLabelMeanOfForwardThrough(int layer, int channels, int side)
    {
        manual_seed(3);
        using var model = new Classifier();
        MnistData data = SyntheticData.Dataset(train: 10, test: 45);
        using Tensor x = data.Test.ToInputs();
        using Tensor y = data.Test.ToTargets();

        ActivationMaps maps = ActivationMaps.Compute(model, x, y, layer, batchSize: 16);   // batches of 16, 16, 13

        Assert.Equal((channels, side, side), (maps.Channels, maps.Height, maps.Width));
        Assert.Equal(Enumerable.Range(0, 10).Select(d => (long)data.Test.Labels.Count(l => l == d)), maps.CountPerClass);
        Assert.True(model.training, "the model's train mode must be restored");
        using (no_grad())
        {
            model.eval();
            int label = 3;
            long[] rows = Enumerable.Range(0, data.Test.Count).Where(i => data.Test.Labels[i] == label).Select(i => (long)i).ToArray();
            using Tensor index = tensor(rows);
            using Tensor subset = x.index_select(0, index);
            using Tensor h = model.ForwardThrough(subset, layer);
            using Tensor mean = h.mean([0]);                               // (C, H, W)
            float[] expected = mean.data<float>().ToArray();
            float[] actual = Enumerable.Range(0, channels).SelectMany(c => maps.Map(label, c).ToArray()).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }

    [Fact]
    public void ConstantChannels_AreThoseWithOneValueEverywhere_IgnoringAbsentClasses()
    {
        // 3 classes x 3 channels x 1 x 2; class 2 has no images (NaN). Channel 0 varies, 1 is 0 everywhere (dead
        // ReLU), 2 is 0.5 everywhere except in one class.
        float n = float.NaN;
        float[] values =
        [
            0.1f, 0.2f,   0f, 0f,   0.5f, 0.5f,     // class 0
            0.3f, 0.3f,   0f, 0f,   0.5f, 0.7f,     // class 1
            n, n,         n, n,     n, n,           // class 2: absent
        ];
        var maps = new ActivationMaps(5, 3, 3, 1, 2, values, [4, 5, 0]);
        Assert.Equal([1], maps.ConstantChannels());
        var allAbsent = new ActivationMaps(5, 1, 1, 1, 1, [n], [0]);
        Assert.Empty(allAbsent.ConstantChannels());
    }
}
