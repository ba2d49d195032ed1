using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>The forward process and the ancestral sampler on tiny inputs: the formulas, t = 1 and seeded reproducibility.</summary>
[Collection("Torch")]
public sealed class DdpmTests
{
    static Tensor ZeroNoiseModel(Tensor x, Tensor t) => zeros_like(x);

    [Fact]
    public void QSample_AtTimesOfKnownAlphaBar_IsTheFormula()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using var g = new Generator(7);
        using Tensor x0 = randn([3, 4, 4, 4], generator: g);
        using Tensor noise = randn([3, 4, 4, 4], generator: g);
        long[] times = [1, 500, 1000];
        using Tensor t = tensor(times);
        using Tensor xt = Ddpm.QSample(schedule, x0, t, noise);

        float[] a = x0.data<float>().ToArray(), e = noise.data<float>().ToArray();
        var expected = new float[a.Length];
        int per = a.Length / times.Length;
        for (int i = 0; i < a.Length; i++)
        {
            double ab = schedule.Values[(int)times[i / per] - 1];
            expected[i] = (float)(Math.Sqrt(ab) * a[i] + Math.Sqrt(1 - ab) * e[i]);
        }
        TensorAssert.CloseRelative(expected, xt, 1e-6, "x_t");
    }

    [Fact]
    public void PSample_AtTimeOneWithZeroNoiseModel_ReturnsXOverSqrtAlpha1AndDrawsNoNoise()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using var g = new Generator(11);
        using Tensor x = randn([2, 4, 4, 4], generator: g);
        using var used = new Generator(5);
        using Tensor x0 = Ddpm.PSample(ZeroNoiseModel, schedule, x, 1, used);
        double alpha1 = schedule.Values[0];                                               // α_1 = ᾱ_1
        using Tensor expected = x.mul(1 / Math.Sqrt(alpha1));
        Assert.True(x0.equal(expected).all().item<bool>(), "x_0 ≠ x_1/√α_1 bitwise");
        float[] xs = x.data<float>().ToArray(), got = x0.data<float>().ToArray();
        for (int i = 0; i < xs.Length; i++)
            Assert.True(Math.Abs(got[i] - xs[i] / Math.Sqrt(alpha1)) <= 1.2e-7 * Math.Abs(xs[i] / Math.Sqrt(alpha1)), $"element {i}: {got[i]}");

        // No noise at t = 1: the generator was not drawn from.
        using var fresh = new Generator(5);
        using Tensor next = randn([16], generator: used);
        using Tensor first = randn([16], generator: fresh);
        Assert.True(next.equal(first).all().item<bool>(), "PSample at t = 1 drew from the generator");
    }

    [Fact]
    public void PSample_SameGeneratorSeed_IsBitwiseReproducibleAndSeedMatters()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear(20);
        using var g = new Generator(3);
        using Tensor x = randn([2, 4, 4, 4], generator: g);
        Tensor Step(ulong seed)
        {
            using var generator = new Generator(seed);
            return Ddpm.PSample(ZeroNoiseModel, schedule, x, 10, generator);
        }
        using Tensor a = Step(42), b = Step(42), c = Step(43);
        Assert.True(a.equal(b).all().item<bool>(), "same seed, different x_{t-1}");
        Assert.False(a.equal(c).all().item<bool>(), "a different seed gave the same x_{t-1}: no noise added at t = 10");
    }

    [Fact]
    public void Sample_OfTinyUNet_SameSeedTwice_IsBitwiseIdentical()
    {
        manual_seed(0);
        using var model = new UNet(new UNetConfig { Widths = [8, 16] });
        model.eval();
        using NoiseSchedule schedule = NoiseSchedule.Linear(20);
        using var noGrad = no_grad();
        Tensor Run(ulong seed)
        {
            using var generator = new Generator(seed);
            return Ddpm.Sample(model.forward, schedule, [4, 4, 4, 4], generator);
        }
        using Tensor a = Run(1), b = Run(1), c = Run(2);
        Assert.Equal([4L, 4L, 4L, 4L], a.shape);
        Assert.True(a.isfinite().all().item<bool>());
        Assert.True(a.equal(b).all().item<bool>(), "two samplings with seed 1 differ");
        Assert.False(a.equal(c).all().item<bool>(), "seeds 1 and 2 gave the same sample");
    }
}
