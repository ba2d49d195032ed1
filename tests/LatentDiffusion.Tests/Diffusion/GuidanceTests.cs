using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>Classifier-free guidance: w = 0 and 1 are the unconditional and conditional predictions, w mixes them linearly in one batch.</summary>
[Collection("Torch")]
public sealed class GuidanceTests
{
    static UNet Conditional()
    {
        manual_seed(3);
        var unet = new UNet(new UNetConfig { Widths = [8, 16], Classes = 10 });
        unet.eval();
        using var noGrad = no_grad();
        foreach (var p in unet.parameters()) p.add_(randn_like(p).mul_(0.1));   // a label embedding that is not ~0
        return unet;
    }

    [Fact]
    public void Guided_IsTheLinearMixOfConditionalAndUnconditional()
    {
        using UNet unet = Conditional();
        using var noGrad = no_grad();
        using var g = new Generator(1);
        using Tensor x = randn([3, 4, 4, 4], generator: g);
        using Tensor t = tensor(new long[] { 10, 500, 999 });
        using Tensor y = tensor(new long[] { 0, 7, 3 });
        using Tensor conditional = unet.forward(x, t, y), unconditional = unet.forward(x, t, null);
        Assert.False(conditional.allclose(unconditional), "the label changed nothing");
        using Tensor plain = unet.forward(x, t);
        Assert.True(plain.equal(unconditional).all().item<bool>(), "forward(x, t) is not the 'no label' prediction");
        using Tensor w0 = Guidance.Guided(unet, y, 0)(x, t), w1 = Guidance.Guided(unet, y, 1)(x, t), w3 = Guidance.Guided(unet, y, 3)(x, t);
        Assert.True(w0.equal(unconditional).all().item<bool>());
        Assert.True(w1.equal(conditional).all().item<bool>());
        using Tensor expected = unconditional.add(conditional.sub(unconditional).mul(3));
        Assert.True(w3.allclose(expected, rtol: 1e-5, atol: 1e-5), $"max diff {w3.sub(expected).abs().max().item<float>()}");
        Assert.Throws<ArgumentOutOfRangeException>(() => Guidance.Guided(unet, y, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Guidance.Guided(unet, y, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Guidance.Guided(unet, y, Guidance.MaxWeight + 1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Guidance.Guided(unet, y, 1e308));
    }

    [Fact]
    public void Guided_OfAnUnconditionalUNet_IsRefused_AndItTakesNoLabels()
    {
        using var unet = new UNet(new UNetConfig { Widths = [8, 16] });
        using Tensor y = tensor(new long[] { 1 });
        Assert.Throws<ArgumentException>(() => Guidance.Guided(unet, y, 2));
        Assert.Throws<ArgumentException>(() => unet.forward(zeros(1, 4, 4, 4), tensor(new long[] { 5 }), y));
        Assert.DoesNotContain(unet.state_dict().Keys, k => k.StartsWith("label", StringComparison.Ordinal));
    }

    [Fact]
    public void DropLabels_ReplacesAboutPOfThemWithNoLabel()
    {
        using Tensor labels = zeros([10_000], dtype: ScalarType.Int64);
        using var g = new Generator(4);
        using Tensor dropped = Guidance.DropLabels(labels, 0.1, 10, g);
        long none = dropped.eq(10).sum().item<long>();
        Assert.InRange(none, 900, 1100);
        Assert.Equal(10_000 - none, dropped.eq(0).sum().item<long>());
    }

    [Fact]
    public void SamplingOptions_SayWhyTheyDoNotFitAModel()
    {
        var epsilon = new DiffusionConfig();
        var alpha = new DiffusionConfig { Objective = DiffusionObjective.AlphaDeblending };
        Assert.Null(new SamplingOptions().Problem(epsilon));
        Assert.Null(new SamplingOptions().Problem(alpha));
        Assert.Equal(Samplers.AlphaEuler, new SamplingOptions().SamplerFor(alpha));
        Assert.Contains("ε-prediction", new SamplingOptions { Sampler = Samplers.AlphaEuler }.Problem(epsilon));
        Assert.Contains("α-deblending", new SamplingOptions { Sampler = Samplers.Ddim }.Problem(alpha));
        Assert.Contains("at most", new SamplingOptions { Sampler = Samplers.Ddim, Steps = 1001 }.Problem(epsilon));
        Assert.Contains("at least", new SamplingOptions { Sampler = Samplers.Ddim, Steps = 0 }.Problem(epsilon));
        Assert.Contains("DDPM walks all", new SamplingOptions { Steps = 50 }.Problem(epsilon));
        Assert.Contains("eta", new SamplingOptions { Sampler = Samplers.Ddim, Eta = -0.5 }.Problem(epsilon));
        Assert.Contains("eta must be a number in [0, 1]", new SamplingOptions { Sampler = Samplers.Ddim, Eta = 1e308 }.Problem(epsilon));
        Assert.Contains("eta must be a number in [0, 1]", new SamplingOptions { Sampler = Samplers.Ddim, Eta = double.NaN }.Problem(epsilon));
        var conditional = alpha with { UNet = alpha.UNet with { Classes = 10 } };
        Assert.Null(new SamplingOptions { Labels = [3], Guidance = Guidance.MaxWeight }.Problem(conditional));
        foreach (double w in new[] { -1e-300, Guidance.MaxWeight + 1e-9, 1e308, double.PositiveInfinity, double.NaN })
            Assert.Contains("guidance must be a number in [0, 20]", new SamplingOptions { Labels = [3], Guidance = w }.Problem(conditional));
        Assert.Contains("unconditional", new SamplingOptions { Labels = [3] }.Problem(epsilon));
        Assert.Equal(49, new SamplingOptions { Sampler = Samplers.AlphaHeun, Steps = 25 }.EvaluationsFor(alpha));
        Assert.Contains("eta applies to the ddim sampler only", new SamplingOptions { Sampler = Samplers.AlphaEuler, Eta = 0.5 }.Problem(alpha));
        Assert.Equal(0.0, new SamplingOptions { Eta = -0.0 }.Eta);                       // −0 reads as 0
        Assert.False(double.IsNegative(new SamplingOptions { Eta = -0.0 }.Eta));
    }
}
