using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Onnx;
using LatentDiffusion.Onnx.Sampling;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>
/// The exported networks on ONNX Runtime against the same weights in TorchSharp, on fixed inputs: every output within
/// 1e-5 of TorchSharp's relative to the output's size (max |ORT − torch| ≤ 1e-5 · max |torch|); and a whole generation
/// from the same initial noise decodes to the same digits (max pixel difference ≤ 1e-3).
/// </summary>
[Trait("Category", "Parity")]
[Collection("Torch")]
public sealed class OnnxParityTests(ExportedModels exported, ITestOutputHelper output) : IClassFixture<ExportedModels>
{
    const double Relative = 1e-5, Pixel = 1e-3;

    [Theory]
    [InlineData("conditional")]
    [InlineData("alpha-deblending")]
    [InlineData("alpha-deblending-wide")]
    [InlineData("diffusion")]
    [InlineData("student")]
    public void UNet_OnFixedInputs_MatchesTorchSharp(string name)
    {
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(ExportedModels.Shipped(name + ".safetensors"));
        using var _ = unet;
        using OnnxNetwork net = OnnxNetwork.Open(exported.File(name + ".onnx"), ModelInfo.UNetKind);
        using var noGrad = no_grad();
        using var generator = new Generator(7);
        int b = 10;
        using Tensor x = randn([b, .. config.LatentShape], generator: generator);
        float[] times = config.Objective == DiffusionObjective.Epsilon ? [1, 2, 10, 100, 250, 500, 750, 900, 999, 1000] : [0, 20, 100, 250, 400, 500, 600, 750, 980, 1000];
        using Tensor t = tensor(times);
        long[]? labels = config.UNet.Classes > 0 ? [0, 1, 2, 3, 4, 5, 6, 7, 10, 10] : null;   // 10 = "no label"
        using Tensor? y = labels is null ? null : tensor(labels);
        using Tensor ours = unet.forward(x, t, y);

        var inputs = new List<(string, Array, long[])> { ("x", Floats(x), x.shape), ("t", times, [b]) };
        if (labels is not null) inputs.Add(("labels", labels, [b]));
        float[] theirs = net.Run(inputs, "prediction")[0];

        AssertClose(Floats(ours), theirs, $"{name} UNet");
    }

    [Fact]
    public void VaeDecoder_OnFixedLatents_MatchesTorchSharp()
    {
        using Vae vae = ModelFile.LoadVae(ExportedModels.Shipped("latent-vae.safetensors"));
        using OnnxNetwork net = OnnxNetwork.Open(exported.File("latent-vae.decoder.onnx"), ModelInfo.DecoderKind);
        using var noGrad = no_grad();
        using var generator = new Generator(3);
        using Tensor z = randn([16, .. vae.LatentShape], generator: generator);
        using Tensor ours = vae.Decode(z);

        float[] theirs = net.Run([("z", Floats(z), z.shape)], "image")[0];

        AssertClose(Floats(ours), theirs, "decoder");
    }

    [Fact]
    public void VaeEncoder_OnMnistImages_MatchesTorchSharp()
    {
        using Vae vae = ModelFile.LoadVae(ExportedModels.Shipped("latent-vae.safetensors"));
        using OnnxNetwork net = OnnxNetwork.Open(exported.File("latent-vae.encoder.onnx"), ModelInfo.EncoderKind);
        using var noGrad = no_grad();
        using Tensor x = TestPaths.FixtureInputs();                                  // (64, 1, 32, 32)
        (Tensor mu, Tensor sigma) = vae.Encode(x);
        using var __ = mu;
        using var ___ = sigma;

        float[][] theirs = net.Run([("image", Floats(x), x.shape)], "mu", "sigma");

        AssertClose(Floats(mu), theirs[0], "encoder μ");
        AssertClose(Floats(sigma), theirs[1], "encoder σ");
    }

    [Fact]
    public void Classifier_OnMnistImages_MatchesTorchSharpLogitsAndFeatures()
    {
        using Classifier classifier = ModelFile.LoadClassifier(ExportedModels.Shipped("classifier.safetensors"));
        using OnnxNetwork net = OnnxNetwork.Open(exported.File("classifier.onnx"), ModelInfo.ClassifierKind);
        using var noGrad = no_grad();
        using Tensor x = TestPaths.FixtureInputs();
        (Tensor logits, Tensor features) = classifier.LogitsAndFeatures(x);
        using var __ = logits;
        using var ___ = features;

        float[][] theirs = net.Run([("image", Floats(x), x.shape)], "logits", "features");

        AssertClose(Floats(logits), theirs[0], "classifier logits");
        AssertClose(Floats(features), theirs[1], "classifier features");
    }

    [Fact]
    public void Generate_ConditionalGuidedEuler_SameNoiseGivesTheSameDigits()
    {
        int[] digits = [.. Enumerable.Range(0, 10), .. Enumerable.Range(0, 10)];
        var options = new SamplingOptions { Labels = digits, Guidance = Recipes.Guidance, GuidanceInterval = Recipes.GuidanceInterval, BatchSize = digits.Length };
        AssertSameDigits("conditional", options, new LiteRequest { Count = digits.Length, Labels = digits, BatchSize = digits.Length });
    }

    [Fact]
    public void Generate_AlphaDeblendingHeun_SameNoiseGivesTheSameDigits()
    {
        var options = new SamplingOptions { Sampler = Samplers.AlphaHeun, Steps = 20, BatchSize = 16 };
        AssertSameDigits("alpha-deblending", options, new LiteRequest { Count = 16, Sampler = "heun", Steps = 20, BatchSize = 16 });
    }

    [Fact]
    public void Generate_EpsilonDdim_SameNoiseGivesTheSameDigits()
    {
        var options = new SamplingOptions { Sampler = Samplers.Ddim, Steps = 50, BatchSize = 16 };
        AssertSameDigits("diffusion", options, new LiteRequest { Count = 16, Sampler = "ddim", Steps = 50, BatchSize = 16 });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Generate_Student_SameNoiseGivesTheSameDigits(int steps)
    {
        var options = new SamplingOptions { Steps = steps, BatchSize = 16 };
        AssertSameDigits("student", options, new LiteRequest { Count = 16, Steps = steps, BatchSize = 16 });
    }

    [Fact]
    public void Student_StepsItWasNotDistilledFor_AreRefusedByLdmLite()
    {
        using LiteGenerator lite = LiteGenerator.Open(exported.File("student.onnx"), exported.File("latent-vae.decoder.onnx"));
        Assert.Equal([1, 2, 4], lite.UNet.Info.StudentSteps!);
        Assert.Equal("student", lite.UNet.Info.DefaultSampler);
        Assert.Contains("is a distilled student: it samples in 1, 2, 4 steps (got 3)", lite.Problem(new LiteRequest { Count = 4, Steps = 3 }));
        Assert.Contains("the heun sampler does not fit", lite.Problem(new LiteRequest { Count = 4, Sampler = "heun" }));
    }

    /// <summary>
    /// TorchSharp's <see cref="LatentDiffusionSampler.Generate"/> from seed s, one batch; ORT from the same x1 (the first
    /// draw of a generator seeded s, which is what Generate draws first).
    /// </summary>
    void AssertSameDigits(string name, SamplingOptions options, LiteRequest request)
    {
        const long seed = 11;
        int n = request.Count;
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(ExportedModels.Shipped(name + ".safetensors"));
        using var _ = unet;
        using Vae vae = ModelFile.LoadVae(ExportedModels.Shipped("latent-vae.safetensors"));
        using LatentSamples ours = LatentDiffusionSampler.Generate(unet, config, vae, n, seed, options);
        float[] noise;
        using (var generator = new Generator(unchecked((ulong)seed)))
        using (Tensor x1 = randn([n, .. config.LatentShape], generator: generator))
            noise = Floats(x1);

        using LiteGenerator lite = LiteGenerator.Open(exported.File(name + ".onnx"), exported.File("latent-vae.decoder.onnx"));
        (ILiteSampler sampler, int steps) = lite.Resolve(request);
        Assert.Equal(options.StepsFor(config), steps);
        float[] z = lite.SampleLatents(noise, n, sampler, steps, request, request.Labels?.Select(l => (long)l).ToArray(), new Gaussian(0));
        float[] theirs = lite.Decode(z, n);

        float[] images = Floats(ours.Images);
        Assert.Equal(images.Length, theirs.Length);
        double max = images.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{name}, {sampler.Name} {steps} steps: max pixel difference {max:E2}");
        Assert.True(max <= Pixel, $"{name}: max pixel difference {max:E2} > {Pixel}");
    }

    void AssertClose(float[] ours, float[] theirs, string what)
    {
        Assert.Equal(ours.Length, theirs.Length);
        double scale = ours.Max(v => Math.Abs((double)v));
        double max = ours.Zip(theirs, (a, b) => Math.Abs((double)a - b)).Max();
        output.WriteLine($"{what}: max |ORT − torch| = {max:E2}, max |torch| = {scale:F3}, relative {max / scale:E2}");
        Assert.True(max <= Relative * scale, $"{what}: max |ORT − torch| = {max:E2} exceeds {Relative} · {scale:F3}");
    }

    static float[] Floats(Tensor t)
    {
        using Tensor c = t.detach().cpu().contiguous();
        return c.data<float>().ToArray();
    }
}
