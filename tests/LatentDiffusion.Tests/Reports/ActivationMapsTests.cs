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
}
