using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Models;

/// <summary>
/// Part 3's UNet, time embedding and training step against PyTorch: python/ldm_modules.py's twins (the post's
/// embedding, block and do_step; our UNet layout), widths (64, 128), seed 0, written by python/make_unet_fixture.py
/// (Fixtures/pytorch-unet).
/// </summary>
[Trait("Category", "Parity")]
[Collection("Torch")]
public sealed class UNetTests
{
    static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-unet", file);

    static float[] Floats(string file) => TestPaths.ReadFloats(Fixture(file));

    static Tensor Floats(string file, params long[] shape) => tensor(Floats(file), shape);

    static JsonElement Manifest()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Fixture("manifest.json")));
        return document.RootElement.Clone();
    }

    /// <summary>The fixture's times, (8,) int64: 1, 2, 37, 250, 500, 731, 999, 1000.</summary>
    static Tensor Times()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("t.i64"));
        var values = new long[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        Assert.Equal(Manifest().GetProperty("t_values").EnumerateArray().Select(e => e.GetInt64()), values);
        return tensor(values, ScalarType.Int64);
    }

    static UNet LoadUNet()
    {
        var model = new UNet(new UNetConfig { Widths = [64, 128] });
        ModelWeights.Load(model, Fixture("unet_state_dict.pt"));
        return model;
    }

    [Fact]
    public void StateDictKeys_AreThePyTorchTwinsInOrder()
    {
        using var model = new UNet(new UNetConfig { Widths = [64, 128] });
        string[] expected = Manifest().GetProperty("state_dict_keys").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(expected, model.state_dict().Keys);
        Dictionary<string, Tensor> saved = ModelWeights.Read(Fixture("unet_state_dict.pt"));
        Assert.Equal(expected.Order(), saved.Keys.Order());
        foreach (var (name, t) in model.state_dict()) Assert.Equal(saved[name].shape, t.shape);
        foreach (Tensor t in saved.Values) t.Dispose();
    }

    [Fact]
    public void ParameterCount_OfWidths64And128_IsPyTorchs()
    {
        using var model = new UNet(new UNetConfig { Widths = [64, 128] });
        Assert.Equal(417_284, model.ParameterCount());
        Assert.Equal(Manifest().GetProperty("unet_params").GetInt64(), model.ParameterCount());
    }

    [Fact]
    public void Embedding_OfFixtureTimes_ReproducesPyTorch()
    {
        using var embedding = new SinusoidalPositionalEmbedding(16, 1000);
        Assert.Empty(embedding.state_dict());
        using Tensor t = Times();
        using Tensor e = embedding.forward(t);                              // (8, 16)
        Assert.Equal([8L, 16L], e.shape);
        TensorAssert.CloseRelative(Floats("embedding.f32"), e, 1e-6, "embedding");

        // The factors: PyTorch's, and the post's values as the series notes quote them (4 significant digits).
        using Tensor factors = embedding.Factors();
        float[] torchFactors = Manifest().GetProperty("emb_factor").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(torchFactors, factors.data<float>().ToArray());
        double[] post = [1, 0.3728, 0.1389, 0.05179, 0.01931, 0.007197, 0.002683, 0.001];
        foreach (var (quoted, f) in post.Zip(torchFactors)) Assert.True(Math.Abs(f - quoted) <= 5e-4 * quoted, $"factor {f} vs the post's {quoted}");
    }

    [Fact]
    public void Forward_OfPyTorchWeights_ReproducesPyTorchInTrainAndEvalMode()
    {
        using UNet model = LoadUNet();
        using Tensor x = Floats("x.f32", 8, 4, 4, 4);
        using Tensor t = Times();
        using var noGrad = no_grad();
        model.eval();
        using Tensor evalOutput = model.forward(x, t);                     // (8, 4, 4, 4)
        model.train();
        using Tensor trainOutput = model.forward(x, t);
        Assert.Equal([8L, 4L, 4L, 4L], evalOutput.shape);
        TensorAssert.CloseRelative(Floats("output.f32"), evalOutput, 1e-5, "UNet output");
        Assert.True(Manifest().GetProperty("train_equals_eval_bitwise").GetBoolean());
        Assert.True(evalOutput.equal(trainOutput).all().item<bool>(), "InstanceNorm keeps no running statistics: train and eval mode must agree bitwise");
    }

    [Fact]
    public void DoStep_OfPyTorchWeights_ReproducesPyTorchLossAndEveryGradient()
    {
        using UNet model = LoadUNet();
        model.train();
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using Tensor x0 = Floats("x.f32", 8, 4, 4, 4);
        using Tensor eps = Floats("eps.f32", 8, 4, 4, 4);
        using Tensor t = Times();
        using Tensor xt = Ddpm.QSample(schedule, x0, t, eps);
        TensorAssert.CloseRelative(Floats("x_t.f32"), xt, 1e-6, "x_t");

        using Tensor loss = Ddpm.PLosses(model.forward, schedule, x0, t, eps);
        loss.backward();
        double expectedLoss = Manifest().GetProperty("do_step_loss").GetDouble();
        double got = loss.item<float>();
        Assert.True(Math.Abs(got - expectedLoss) <= 1e-5 * Math.Abs(expectedLoss), $"loss {got} vs PyTorch {expectedLoss}");

        // Each conv's bias is followed by InstanceNorm (no affine), which subtracts the per-channel mean: the bias cannot
        // change the output, and its exact gradient is 0. PyTorch's stored value is rounding noise (≤ 2e-8), so
        // max |expected| is no scale for those; they are held to 1e-4 of their own conv weight's gradient scale instead.
        Dictionary<string, Tensor> grads = ModelWeights.Read(Fixture("unet_grads.pt"));
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(grads.Keys.Order(), parameters.Keys.Order());
        foreach (var (name, expected) in grads)
        {
            float[] values = expected.contiguous().data<float>().ToArray();
            if (name.EndsWith("._conv.bias", StringComparison.Ordinal))
            {
                double scale = MaxAbs(grads[name.Replace(".bias", ".weight")].contiguous().data<float>().ToArray());
                double ours = MaxAbs(parameters[name].grad!.data<float>().ToArray()), theirs = MaxAbs(values);
                Assert.True(ours <= 1e-4 * scale && theirs <= 1e-4 * scale,
                    $"gradient of {name} (exactly 0 in theory): ours {ours:E3}, PyTorch {theirs:E3}, > 1E-004 x conv weight gradient {scale:E3}");
            }
            else
            {
                TensorAssert.CloseRelative(values, parameters[name].grad!, 1e-4, $"gradient of {name}");
            }
        }
        foreach (Tensor g in grads.Values) g.Dispose();
    }

    static double MaxAbs(float[] values) => values.Max(v => Math.Abs((double)v));
}
