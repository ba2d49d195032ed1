using LatentDiffusion.Data;
using LatentDiffusion.Export.Onnx;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Onnx;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>Exported models of another dataset's shape (3 channels, 64 px, 4 classes) run on ONNX Runtime as in TorchSharp.</summary>
[Collection("Torch")]
public sealed class DatasetOnnxTests
{
    static float[] Floats(Tensor t) => t.detach().cpu().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();

    static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs) + 1e-6;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * scale, $"{what}[{i}]: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Export_RgbClassifierAndVaeAt64_RunWithTheirShapes()
    {
        using var dir = new TempDirectory();
        manual_seed(3);
        var config = new ClassifierConfig { Channels = 3, Resolution = 64, Classes = 4 };
        var info = new DatasetInfo("toy", "toy", 3, 64, ["w", "x", "y", "z"], new string('a', 64), "test");
        using var classifier = new Classifier(config);
        classifier.eval();
        ModelWeights.Save(classifier, dir.File("classifier.safetensors"),
            RunDirectory.Metadata(nameof(Classifier), config.ToSettings(), new TrainingConfig(), info.ToJson()));
        var vaeConfig = new VaeConfig { Features = [1, 4, 4, 8], Sigma = SigmaParameterization.LogVariance }.ForResolution(3, 64);
        using var vae = new Vae(vaeConfig);
        vae.eval();
        ModelWeights.Save(vae, dir.File("vae.safetensors"), RunDirectory.Metadata(nameof(Vae), System.Text.Json.JsonSerializer.Serialize(vaeConfig), new TrainingConfig()));

        OnnxExport.Export([dir.File("classifier.safetensors"), dir.File("vae.safetensors")], dir.File("onnx"));

        using var noGrad = no_grad();
        using Tensor x = rand(2, 3, 64, 64);
        using (OnnxNetwork net = OnnxNetwork.Open(Path.Combine(dir.File("onnx"), "classifier.onnx"), ModelInfo.ClassifierKind))
        {
            (Tensor logits, Tensor features) = classifier.LogitsAndFeatures(x);
            float[][] theirs = net.Run([("image", Floats(x), x.shape)], "logits", "features");
            AssertClose(Floats(logits), theirs[0], "logits");
            AssertClose(Floats(features), theirs[1], "features");
            logits.Dispose();
            features.Dispose();
        }
        using (OnnxNetwork decoder = OnnxNetwork.Open(Path.Combine(dir.File("onnx"), "vae.decoder.onnx"), ModelInfo.DecoderKind))
        {
            using Tensor z = randn(2, 4, 4, 4);
            using Tensor image = vae.Decode(z);
            Assert.Equal([2, 3, 64, 64], image.shape);
            AssertClose(Floats(image), decoder.Run([("z", Floats(z), z.shape)], "image")[0], "decoded image");
        }
    }
}
