using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

[Collection("Torch")]
public sealed class FidFeatureExtractorTests
{
    [Theory]
    [InlineData(FeatureKind.PreAct)]
    [InlineData(FeatureKind.Flatten)]
    public void Features_AreBitwiseThoseOfTheClassifier(FeatureKind kind)
    {
        using Classifier classifier = FidCalculatorTests.LoadFixtureClassifier();
        manual_seed(11);
        using Tensor fixture = tensor(TestPaths.ReadFloats(TestPaths.PyTorchFixture("inputs.f32")), [64, 1, 32, 32]);
        using Tensor noise = randn(64, 1, 32, 32);                             // negative inputs too
        using Tensor inputs = cat([fixture, noise], 0);
        using var noGrad = no_grad();
        using Tensor expected = classifier.Features(inputs, kind);
        using Tensor actual = new FidFeatureExtractor(classifier, kind).Features(inputs);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), $"max difference {(expected - actual).abs().max().item<float>():E3}");
    }

    [Fact]
    public void MaxPool2x2_EqualsMaxPool2d()
    {
        manual_seed(12);
        using Tensor x = randn(3, 5, 8, 6);
        using Tensor expected = nn.functional.max_pool2d(x, 2, 2);
        using Tensor actual = FidFeatureExtractor.MaxPool2x2(x);
        Assert.True(expected.equal(actual).all().item<bool>());
    }
}
