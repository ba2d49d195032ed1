using LatentDiffusion.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>DDIM's time sub-sequence, its exactness on a one-point data set, and η = 1 over all T steps = DDPM.</summary>
[Collection("Torch")]
public sealed class DdimTests
{
    [Fact]
    public void Timesteps_AreEvenlySpacedFromTDownToOne()
    {
        int[] t = Ddim.Timesteps(1000, 50);
        Assert.Equal(50, t.Length);
        Assert.Equal(1000, t[0]);
        Assert.Equal(1, t[^1]);
        for (int i = 1; i < t.Length; i++) Assert.InRange(t[i - 1] - t[i], 20, 21);
        Assert.Equal([1000], Ddim.Timesteps(1000, 1));
        Assert.Equal(Enumerable.Range(1, 1000).Reverse(), Ddim.Timesteps(1000, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ddim.Timesteps(1000, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ddim.Timesteps(1000, 1001));
    }

    /// <summary>For data that is one point x*, the exact ε-model is (x_t − √ᾱ_t x*)/√(1 − ᾱ_t); deterministic DDIM lands on x* in any number of steps.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    public void Sample_EtaZero_OfTheExactModelOfOnePoint_ReturnsThePoint(int steps)
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using var g = new Generator(5);
        using Tensor point = randn([1, 4, 4, 4], generator: g);
        Tensor Exact(Tensor x, Tensor t)
        {
            using var scope = NewDisposeScope();
            Tensor ab = schedule.AlphaBar(t);
            return x.sub(point.mul(ab.sqrt())).div_(ones_like(ab).sub_(ab).sqrt_()).MoveToOuterDisposeScope();
        }
        using var generator = new Generator(9);
        using Tensor x0 = Ddim.Sample(Exact, schedule, [3, 4, 4, 4], generator, steps, eta: 0);
        using Tensor expected = point.expand(3, 4, 4, 4);
        Assert.True(x0.allclose(expected, rtol: 1e-4, atol: 1e-4), $"max |x0 − x*| = {x0.sub(expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Sample_EtaOneOverAllSteps_IsDdpmsAncestralSampler()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear(50, 1e-3, 0.2);
        var w = linspace(-0.5, 0.5, 4 * 4 * 4).view(1, 4, 4, 4);
        Tensor Model(Tensor x, Tensor t) => x.mul(0.3).add(w).mul(t.to_type(ScalarType.Float32).view(-1, 1, 1, 1).div(50));   // any smooth ε-model
        using var a = new Generator(21);
        using var b = new Generator(21);
        using Tensor ddim = Ddim.Sample(Model, schedule, [4, 4, 4, 4], a, 50, eta: 1);
        using Tensor ddpm = Ddpm.Sample(Model, schedule, [4, 4, 4, 4], b);
        Assert.True(ddim.allclose(ddpm, rtol: 1e-4, atol: 1e-4), $"max |DDIM(η=1) − DDPM| = {ddim.sub(ddpm).abs().max().item<float>()}");
        using Tensor afterA = randn([8], generator: a), afterB = randn([8], generator: b);
        Assert.True(afterA.equal(afterB).all().item<bool>(), "DDIM(η=1) and DDPM drew a different number of numbers");
    }

    [Fact]
    public void Step_EtaZero_DrawsNothingAndEtaPositiveDoes()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        static Tensor Zero(Tensor x, Tensor t) => zeros_like(x);
        using Tensor x = ones(2, 4, 4, 4);
        using var used = new Generator(3);
        using (Ddim.Step(Zero, schedule, x, 500, 480, 0, used)) { }
        using var fresh = new Generator(3);
        using Tensor next = randn([8], generator: used), first = randn([8], generator: fresh);
        Assert.True(next.equal(first).all().item<bool>(), "η = 0 drew from the generator");
        using Tensor s1 = Ddim.Step(Zero, schedule, x, 500, 480, 0.5, new Generator(1));
        using Tensor s2 = Ddim.Step(Zero, schedule, x, 500, 480, 0.5, new Generator(2));
        Assert.False(s1.equal(s2).all().item<bool>(), "η > 0 added no noise");
        Assert.Throws<ArgumentOutOfRangeException>(() => Ddim.Step(Zero, schedule, x, 500, 480, -0.1, used));
    }

    [Fact]
    public void MaxEta_KeepsEveryStepsDirectionTermReal_AndAboveItSomeStepBreaks()
    {
        // σ² ≤ 1 − ᾱ_{τ−} (eq. 12's square root) for every pair of times of both schedules at η = 1; at η = 1.5 it fails.
        foreach (NoiseSchedule schedule in new[] { NoiseSchedule.Linear(), NoiseSchedule.Cosine() })
            using (schedule)
            {
                IReadOnlyList<float> ab = schedule.Values;
                double Worst(double eta, int t, int tPrev)
                {
                    double abT = ab[t - 1], abPrev = tPrev > 0 ? ab[tPrev - 1] : 1.0;
                    double sigma = eta * Math.Sqrt((1 - abPrev) / (1 - abT) * (1 - abT / abPrev));
                    return 1 - abPrev - sigma * sigma;
                }
                for (int t = 2; t <= schedule.Steps; t++)
                    foreach (int tPrev in new[] { 0, 1, t / 2, t - 1 })
                        Assert.True(Worst(Ddim.MaxEta, t, tPrev) >= -1e-12, $"{schedule.Name}: η = 1 breaks {t} → {tPrev}");
                Assert.Contains(Enumerable.Range(2, schedule.Steps - 1), t => Worst(1.5, t, t - 1) < 0);
            }
    }

    [Fact]
    public void Step_EtaAboveMax_OrNotANumber_IsRefused()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        static Tensor Zero(Tensor x, Tensor t) => zeros_like(x);
        using Tensor x = ones(2, 4, 4, 4);
        using var generator = new Generator(3);
        foreach (double eta in new[] { 1.0 + 1e-9, 1e308, double.PositiveInfinity, double.NaN })
            Assert.ThrowsAny<ArgumentOutOfRangeException>(() => Ddim.Step(Zero, schedule, x, 500, 480, eta, generator));
        Assert.Null(Ddim.EtaProblem(0));
        Assert.Null(Ddim.EtaProblem(1));
        Assert.Equal("--eta must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM's noise) (got NaN)", Ddim.EtaProblem(double.NaN, "--eta"));
    }
}
