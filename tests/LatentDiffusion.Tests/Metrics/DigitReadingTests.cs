using LatentDiffusion.Metrics;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

[Trait("Category", "Slow")]
public sealed class DigitReadingTests
{
    [Fact]
    public void Read_GivesEachImagesArgmaxAndItsSoftmaxProbability_InBatches()
    {
        using var classifier = TestPaths.LoadFixtureClassifier();
        using Tensor inputs = TestPaths.FixtureInputs();                                   // 64 MNIST test digits
        IReadOnlyList<DigitReading> readings = DigitReading.Read(classifier, inputs, batchSize: 10);
        using Tensor logits = classifier.forward(inputs);
        using Tensor probabilities = nn.functional.softmax(logits, 1);
        long[] labels = probabilities.argmax(1).data<long>().ToArray();
        Assert.Equal(64, readings.Count);
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(labels[i], readings[i].Label);
            Assert.Equal(probabilities[i, labels[i]].item<float>(), readings[i].Confidence, 1e-6);
        }
        Assert.All(readings, r => Assert.InRange(r.Confidence, 0.1, 1.0));
    }
}
