using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests;

/// <summary>Locations of the files tests read: the committed fixtures and the shipped data.</summary>
public static class TestPaths
{
    /// <summary>tests/LatentDiffusion.Tests/Fixtures/pytorch-classifier, copied into the test output.</summary>
    public static string PyTorchFixture(string file) =>
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-classifier", file);

    /// <summary>The repository's data/mnist.</summary>
    public static string MnistDirectory =>
        RepositoryPaths.Find("data/mnist") ?? throw new DirectoryNotFoundException("data/mnist not found above " + AppContext.BaseDirectory);

    /// <summary>Little-endian float32 file → array.</summary>
    public static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    /// <summary>The fixture's PyTorch-trained classifier (3 epochs), loaded from its .pt, in eval mode.</summary>
    public static Classifier LoadFixtureClassifier()
    {
        var model = new Classifier();
        ModelWeights.Load(model, PyTorchFixture("classifier_state_dict.pt"));
        model.eval();
        return model;
    }

    /// <summary>The fixture's inputs: the first 64 MNIST test images, (64, 1, 32, 32) float32.</summary>
    public static Tensor FixtureInputs() => tensor(ReadFloats(PyTorchFixture("inputs.f32")), [64, 1, 32, 32]);
}
