using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Models;

[Collection("Torch")]
public sealed class ClassifierTests
{
    [Fact]
    public void ParameterCount_MatchesPublishedArchitecture()
    {
        using var model = new Classifier();
        Assert.Equal(16554, model.ParameterCount());
    }

    [Trait("Category", "Parity")]
    [Fact]
    public void StateDictKeys_AreThoseOfThePyTorchSequential()
    {
        using var model = new Classifier();
        string[] expected = [.. new[] { 0, 3, 6, 11, 13, 15 }.SelectMany(i => new[] { $"layers.{i}.weight", $"layers.{i}.bias" })];
        Assert.Equal(expected.OrderBy(k => k), model.state_dict().Keys.OrderBy(k => k));
    }

    [Trait("Category", "Parity")]
    [Fact]
    public void Forward_OfPyTorchWeights_ReproducesPyTorchLogitsAndFeatures()
    {
        using Classifier model = TestPaths.LoadFixtureClassifier();
        using Tensor x = TestPaths.FixtureInputs();
        using var noGrad = no_grad();
        AssertClose(TestPaths.ReadFloats(TestPaths.PyTorchFixture("logits.f32")), model.forward(x), 1e-5);
        AssertClose(TestPaths.ReadFloats(TestPaths.PyTorchFixture("features_pre.f32")), model.Features(x, FeatureKind.PreAct), 1e-5);
        AssertClose(TestPaths.ReadFloats(TestPaths.PyTorchFixture("features_post.f32")), model.Features(x, FeatureKind.Flatten), 1e-5);
    }

    [Fact]
    public void Features_AreIndependentOfTrainMode()
    {
        manual_seed(3);
        using var model = new Classifier();
        using var x = rand(8, 1, 32, 32);
        using var noGrad = no_grad();
        model.train();
        using var a = model.Features(x);
        model.eval();
        using var b = model.Features(x);
        Assert.True(a.equal(b).all().item<bool>());
        Assert.Equal([8L, 128L], a.shape);
    }

    [Fact]
    public void LogitsAndFeatures_AreBitwiseForwardAndFeatures()
    {
        using Classifier model = TestPaths.LoadFixtureClassifier();
        using Tensor x = TestPaths.FixtureInputs();
        using var noGrad = no_grad();
        (Tensor logits, Tensor features) = model.LogitsAndFeatures(x);
        using (logits)
        using (features)
        using (Tensor expectedLogits = model.forward(x))
        using (Tensor expectedFeatures = model.Features(x, FeatureKind.PreAct))
        {
            Assert.True(logits.equal(expectedLogits).all().item<bool>());
            Assert.True(features.equal(expectedFeatures).all().item<bool>());
        }
    }

    [Fact]
    public void Forward_ReluAfterPool_IsBitwiseTheLayeredForwardAndItsGradients()
    {
        manual_seed(5);
        using var model = new Classifier();
        model.eval();   // Dropout off, so both passes see the same graph
        using var x = rand(16, 1, 32, 32);
        using var y = randint(0, 10, [16], dtype: ScalarType.Int64);

        float[][] Gradients(Func<Tensor, Tensor> forward, out Tensor logits)
        {
            model.zero_grad();
            logits = forward(x);
            using Tensor loss = nn.functional.cross_entropy(logits, y);
            loss.backward();
            return model.parameters().Select(p => p.grad!.data<float>().ToArray()).ToArray();
        }
        float[][] fast = Gradients(model.forward, out Tensor fastLogits);
        float[][] layered = Gradients(t => model.ForwardThrough(t, model.Layers.Count - 1), out Tensor layeredLogits);
        using (fastLogits)
        using (layeredLogits)
            Assert.True(fastLogits.equal(layeredLogits).all().item<bool>());
        for (int i = 0; i < fast.Length; i++) Assert.Equal(layered[i], fast[i]);
    }

    static void AssertClose(float[] expected, Tensor actual, double tolerance)
    {
        using (actual)
        {
            float[] got = actual.contiguous().data<float>().ToArray();
            Assert.Equal(expected.Length, got.Length);
            double worst = expected.Zip(got, (e, g) => Math.Abs(e - g)).Max();
            Assert.True(worst <= tolerance, $"max abs difference {worst:E3} > {tolerance:E0}");
        }
    }
}
