using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>DPM-Solver++(2M): exact on a one-point data set, second order on an eight-point one, one evaluation a step.</summary>
[Collection("Torch")]
public sealed class DpmSolverPlusPlusTests
{
    /// <summary>The exact ε-model of data that is the points <paramref name="points"/> (K, C, H, W), equally likely: ε = (x − α E[x0 | x])/σ.</summary>
    static Func<Tensor, Tensor, Tensor> Exact(NoiseSchedule schedule, Tensor points) => (x, t) =>
    {
        using var scope = NewDisposeScope();
        Tensor ab = schedule.AlphaBar(t).to_type(ScalarType.Float64);                        // (B, 1, 1, 1)
        Tensor alpha = ab.sqrt(), sigma = ones_like(ab).sub_(ab).sqrt_();
        Tensor xd = x.to_type(ScalarType.Float64), p = points.to_type(ScalarType.Float64);
        Tensor d2 = xd.unsqueeze(1).sub(p.unsqueeze(0).mul(alpha.unsqueeze(1))).pow(2).sum([2, 3, 4]);   // (B, K)
        Tensor w = d2.div(sigma.view(-1, 1).pow(2).mul(-2)).softmax(1);                                  // posterior of each point
        Tensor mean = w.matmul(p.flatten(1)).view(x.shape);                                              // E[x0 | x]
        return xd.sub(mean.mul(alpha)).div(sigma).to_type(x.dtype).MoveToOuterDisposeScope();
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(10)]
    public void Sample_OfTheExactModelOfOnePoint_ReturnsThePoint(int steps)
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using var g = new Generator(5);
        using Tensor point = randn([1, 4, 4, 4], generator: g);
        int calls = 0;
        var exact = Exact(schedule, point);
        using var generator = new Generator(9);
        using Tensor x0 = DpmSolverPlusPlus.Sample((x, t) => { calls++; return exact(x, t); }, schedule, [3, 4, 4, 4], generator, steps);
        using Tensor expected = point.expand(3, 4, 4, 4);
        Assert.True(x0.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max |x0 − x*| = {x0.sub(expected).abs().max().item<float>()}");
        Assert.Equal(steps, calls);
        Assert.Equal(steps, new DpmSolverPlusPlus2MSampler().Evaluations(steps));
    }

    /// <summary>
    /// On eight data points the ODE's paths curve; at 5 and 10 steps the second-order solver ends nearer the 1000-step
    /// solution than DDIM (first order, the same times), on average over 64 draws.
    /// </summary>
    [Fact]
    public void Sample_OfEightPoints_ConvergesFasterThanDdim()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using var g = new Generator(5);
        using Tensor points = randn([8, 2, 2, 2], generator: g).mul_(1.5);
        var exact = Exact(schedule, points);
        Tensor Run(Func<Generator, Tensor> sample)
        {
            using var generator = new Generator(11);
            return sample(generator);
        }
        using Tensor reference = Run(gen => Ddim.Sample(exact, schedule, [64, 2, 2, 2], gen, 1000, eta: 0));
        double Error(Tensor x) { using Tensor d = x.sub(reference).abs().mean(); return d.item<float>(); }   // mean |x − x_ref|
        var dpm = new double[2];
        var ddim = new double[2];
        int[] steps = [5, 10];
        for (int k = 0; k < 2; k++)
        {
            using Tensor a = Run(gen => DpmSolverPlusPlus.Sample(exact, schedule, [64, 2, 2, 2], gen, steps[k]));
            using Tensor b = Run(gen => Ddim.Sample(exact, schedule, [64, 2, 2, 2], gen, steps[k], eta: 0));
            dpm[k] = Error(a);
            ddim[k] = Error(b);
        }
        Assert.True(dpm[0] < ddim[0] && dpm[1] < ddim[1], $"DPM-Solver++ {dpm[0]:E2}, {dpm[1]:E2}; DDIM {ddim[0]:E2}, {ddim[1]:E2}");
        Assert.True(dpm[1] < dpm[0], $"DPM-Solver++'s error does not fall with the steps: {dpm[0]:E2} → {dpm[1]:E2}");
    }

    /// <summary>The exact α-deblending model of the points (K, C, H, W): D = E[x1 − x0 | x_α] = (x − E[x0 | x_α])/α, the network's time α (scale 1).</summary>
    static Func<Tensor, Tensor, Tensor> ExactAlpha(Tensor points) => (x, t) =>
    {
        using var scope = NewDisposeScope();
        Tensor alpha = t.to_type(ScalarType.Float64).view(-1, 1);                                    // (B, 1)
        Tensor xd = x.to_type(ScalarType.Float64), p = points.to_type(ScalarType.Float64);
        Tensor d2 = xd.flatten(1).unsqueeze(1).sub(p.flatten(1).unsqueeze(0).mul(alpha.neg().add(1).unsqueeze(1))).pow(2).sum(2);   // (B, K)
        Tensor w = d2.div(alpha.pow(2).mul(-2)).softmax(1);
        Tensor mean = w.matmul(p.flatten(1)).view(x.shape);                                           // E[x0 | x]
        return xd.sub(mean).div(alpha.view(-1, 1, 1, 1)).to_type(x.dtype).MoveToOuterDisposeScope();
    };

    [Theory]
    [InlineData(1, StepSpacing.Uniform)]
    [InlineData(2, StepSpacing.Uniform)]
    [InlineData(10, StepSpacing.Karras)]
    [InlineData(10, StepSpacing.LogSnr)]
    public void SampleAlpha_OfTheExactModelOfOnePoint_ReturnsThePoint(int steps, StepSpacing spacing)
    {
        using var g = new Generator(5);
        using Tensor point = randn([1, 4, 4, 4], generator: g);
        int calls = 0;
        var exact = ExactAlpha(point);
        using var generator = new Generator(9);
        using Tensor x0 = DpmSolverPlusPlus.SampleAlpha((x, t) => { calls++; return exact(x, t); }, [3, 4, 4, 4], generator, steps, alphaScale: 1, spacing: spacing);
        using Tensor expected = point.expand(3, 4, 4, 4);
        Assert.True(x0.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max |x0 − x*| = {x0.sub(expected).abs().max().item<float>()}");
        Assert.Equal(steps, calls);
        Assert.Equal(steps, new AlphaDpmSolverSampler().Evaluations(steps));
    }

    /// <summary>On eight points the α-ODE's paths curve too: at 5 and 10 steps the second-order solver ends nearer the 1000-step Euler solution than Euler does.</summary>
    [Fact]
    public void SampleAlpha_OfEightPoints_ConvergesFasterThanEuler()
    {
        using var g = new Generator(5);
        using Tensor points = randn([8, 2, 2, 2], generator: g).mul_(1.5);
        var exact = ExactAlpha(points);
        Tensor Run(Func<Generator, Tensor> sample)
        {
            using var generator = new Generator(11);
            return sample(generator);
        }
        using Tensor reference = Run(gen => AlphaDeblending.Sample(exact, [64, 2, 2, 2], gen, 1000, heun: false, alphaScale: 1));
        double Error(Tensor x) { using Tensor d = x.sub(reference).abs().mean(); return d.item<float>(); }
        foreach (int steps in new[] { 5, 10 })
        {
            using Tensor a = Run(gen => DpmSolverPlusPlus.SampleAlpha(exact, [64, 2, 2, 2], gen, steps, alphaScale: 1));
            using Tensor b = Run(gen => AlphaDeblending.Sample(exact, [64, 2, 2, 2], gen, steps, heun: false, alphaScale: 1));
            Assert.True(Error(a) < Error(b), $"{steps} steps: DPM-Solver++ {Error(a):E2}, Euler {Error(b):E2}");
        }
    }

    /// <summary>Its first order is the post's Euler step: one step from α = 1 is (α'/α)x + (1 − α'/α)x̂_0 = x + (α' − α)D.</summary>
    [Fact]
    public void SampleAlpha_OneStep_IsEulersStep()
    {
        using var g = new Generator(5);
        using Tensor points = randn([8, 2, 2, 2], generator: g);
        var exact = ExactAlpha(points);
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        using Tensor a = DpmSolverPlusPlus.SampleAlpha(exact, [16, 2, 2, 2], g1, 1, alphaScale: 1);
        using Tensor b = AlphaDeblending.Sample(exact, [16, 2, 2, 2], g2, 1, heun: false, alphaScale: 1);
        Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6), $"max diff {a.sub(b).abs().max().item<float>()}");
    }
}
