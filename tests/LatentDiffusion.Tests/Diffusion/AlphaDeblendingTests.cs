using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>Iterative α-(de)blending: the blend, the loss of the exact model, and exact sampling of a one-point data set.</summary>
[Collection("Torch")]
public sealed class AlphaDeblendingTests
{
    [Fact]
    public void Blend_IsX0AtZeroX1AtOneAndLinearBetween()
    {
        using var g = new Generator(1);
        using Tensor x0 = randn([3, 4, 4, 4], generator: g), x1 = randn([3, 4, 4, 4], generator: g);
        using Tensor alpha = tensor(new float[] { 0f, 0.25f, 1f });
        using Tensor blend = AlphaDeblending.Blend(x0, x1, alpha);
        Assert.True(blend[0].equal(x0[0]).all().item<bool>());
        Assert.True(blend[2].allclose(x1[2], rtol: 0, atol: 1e-6));
        using Tensor quarter = x0[1].mul(0.75).add(x1[1].mul(0.25));
        Assert.True(blend[1].allclose(quarter, rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void PLosses_OfAModelThatKnowsX1MinusX0_IsZero_AndFeedsAlphaTimesScale()
    {
        using var g = new Generator(2);
        using Tensor x0 = randn([5, 4, 4, 4], generator: g), x1 = randn([5, 4, 4, 4], generator: g), alpha = rand([5], generator: g);
        Tensor? seen = null;
        Tensor Oracle(Tensor x, Tensor t) { seen = t.clone().DetachFromDisposeScope(); return x1.sub(x0); }
        using Tensor loss = AlphaDeblending.PLosses(Oracle, x0, x1, alpha, 1000);
        Assert.Equal(0f, loss.item<float>());
        using Tensor expected = alpha.mul(1000);
        Assert.True(seen!.allclose(expected), "the network did not see α·scale");
        using Tensor zero = AlphaDeblending.PLosses((x, t) => zeros_like(x), x0, x1, alpha, 1);
        using Tensor mse = x1.sub(x0).square().mean();
        Assert.Equal(mse.item<float>(), zero.item<float>(), 5);
    }

    /// <summary>For one data point x*, x1 − x0 = (x_α − x*)/α exactly; the paths are straight, so Euler and Heun land on x* in any number of steps.</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(10, false)]
    [InlineData(3, true)]
    [InlineData(25, true)]
    public void Sample_OfTheExactModelOfOnePoint_ReturnsThePoint(int steps, bool heun)
    {
        using var g = new Generator(5);
        using Tensor point = randn([1, 4, 4, 4], generator: g);
        int calls = 0;
        Tensor Exact(Tensor x, Tensor t)
        {
            calls++;
            using var scope = NewDisposeScope();
            Tensor alpha = t.div(1000).view(-1, 1, 1, 1);
            return x.sub(point).div_(alpha).MoveToOuterDisposeScope();
        }
        using var generator = new Generator(9);
        using Tensor x0 = AlphaDeblending.Sample(Exact, [3, 4, 4, 4], generator, steps, heun, 1000);
        using Tensor expected = point.expand(3, 4, 4, 4);
        Assert.True(x0.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max |x0 − x*| = {x0.sub(expected).abs().max().item<float>()}");
        Assert.Equal(AlphaDeblending.Evaluations(steps, heun), calls);
    }

    [Fact]
    public void Sample_OfTinyUNet_SameSeedTwice_IsBitwiseIdentical()
    {
        manual_seed(0);
        using var model = new UNet(new UNetConfig { Widths = [8, 16] });
        model.eval();
        using var noGrad = no_grad();
        Tensor Run(ulong seed, bool heun)
        {
            using var generator = new Generator(seed);
            return AlphaDeblending.Sample(model.forward, [4, 4, 4, 4], generator, 5, heun, 1000);
        }
        using Tensor a = Run(1, false), b = Run(1, false), c = Run(2, false), h = Run(1, true);
        Assert.True(a.isfinite().all().item<bool>());
        Assert.True(a.equal(b).all().item<bool>(), "two samplings with seed 1 differ");
        Assert.False(a.equal(c).all().item<bool>(), "seeds 1 and 2 gave the same sample");
        Assert.False(a.equal(h).all().item<bool>(), "Heun gave Euler's result");
    }
}
