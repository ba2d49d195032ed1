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
}
