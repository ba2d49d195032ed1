using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// Denoising diffusion implicit models (Song, Meng and Ermon 2021) on an ε-model trained as DDPM: a sub-sequence
/// τ_S &gt; … &gt; τ_1 of 1..T (<see cref="Timesteps"/>), and per step (eq. 12)
/// x_{τ−} = √ᾱ_{τ−} x̂_0 + √(1 − ᾱ_{τ−} − σ²) ε_θ + σ z with x̂_0 = (x_τ − √(1 − ᾱ_τ) ε_θ)/√ᾱ_τ and
/// σ = η √((1 − ᾱ_{τ−})/(1 − ᾱ_τ)) √(1 − ᾱ_τ/ᾱ_{τ−}) (eq. 16); ᾱ_0 = 1, so the last step returns x̂_0.
/// η = 0 is deterministic given x_T; η = 1 with all T steps is DDPM's ancestral sampler (test).
/// </summary>
public static class Ddim
{
    /// <summary>
    /// The largest η: eq. 12's direction term √(1 − ᾱ_{τ−} − σ²) is real only while σ² ≤ 1 − ᾱ_{τ−}. At η = 1, σ² is
    /// (1 − ᾱ_{τ−})(1 − ᾱ_τ/ᾱ_{τ−})/(1 − ᾱ_τ) ≤ 1 − ᾱ_{τ−} for every schedule and pair of times (ᾱ_{τ−} ≤ 1); above 1
    /// it fails for close times (e.g. τ = 2 → 1 at η ≳ 1.4), where the step would silently add more noise than it removes.
    /// η ∈ [0, 1] is the family the paper defines, DDIM (0) to DDPM's posterior (1).
    /// </summary>
    public const double MaxEta = 1;

    /// <summary>Why <paramref name="eta"/> cannot be DDIM's η, in words naming it as <paramref name="name"/> (null: it can).</summary>
    public static string? EtaProblem(double eta, string name = "eta") => eta >= 0 && eta <= MaxEta ? null :
        $"{name} must be a number in [0, {MaxEta}] (0: deterministic DDIM, 1: DDPM's noise) (got {eta.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})";

    /// <summary>S times evenly spaced over 1..T, descending from T (<see cref="TrailingTimesteps"/>).</summary>
    public static int[] Timesteps(int totalSteps, int steps) => TrailingTimesteps.Of(totalSteps, steps);

    /// <summary>
    /// One step from time <paramref name="t"/> to <paramref name="tPrev"/> &lt; t (0 = data). <paramref name="clipX0"/>,
    /// when given, clamps x̂_0 to [−c, c] (and ε is recomputed from it so that the step stays on the same path).
    /// </summary>
    public static Tensor Step(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, Tensor xt, int t, int tPrev, double eta,
        Generator? generator, double? clipX0 = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(t, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(t, schedule.Steps);
        ArgumentOutOfRangeException.ThrowIfNegative(tPrev);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(tPrev, t);
        ArgumentOutOfRangeException.ThrowIfNegative(eta);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(eta, MaxEta);
        using var scope = NewDisposeScope();
        IReadOnlyList<float> ab = schedule.Values;
        double abT = ab[t - 1], abPrev = tPrev > 0 ? ab[tPrev - 1] : 1.0;
        Tensor times = full([xt.shape[0]], t, dtype: ScalarType.Int64, device: xt.device);
        Tensor eps = model(xt, times);
        Tensor x0 = xt.sub(eps.mul(Math.Sqrt(1 - abT))).div_(Math.Sqrt(abT));                  // x̂_0 (eq. 9)
        if (clipX0 is double c)
        {
            x0 = x0.clamp_(-c, c);
            eps = xt.sub(x0.mul(Math.Sqrt(abT))).div_(Math.Sqrt(1 - abT));
        }
        double sigma = eta * Math.Sqrt((1 - abPrev) / (1 - abT) * (1 - abT / abPrev));
        double direction = Math.Sqrt(Math.Max(0, 1 - abPrev - sigma * sigma));
        Tensor next = x0.mul(Math.Sqrt(abPrev)).add_(eps.mul(direction));
        if (sigma > 0)
        {
            Tensor z = randn(xt.shape, dtype: xt.dtype, device: xt.device, generator: generator);
            next = next.add_(z.mul_(sigma));
        }
        return next.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// From x_T ~ N(0, I) (drawn from <paramref name="generator"/>) over the <paramref name="steps"/> times of
    /// <see cref="Timesteps"/> to x_0; <paramref name="progress"/> after each step as in <see cref="Ddpm.Sample"/>.
    /// Call under no_grad with the model in eval mode.
    /// </summary>
    public static Tensor Sample(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, long[] shape, Generator generator,
        int steps, double eta, double? clipX0 = null, Action<int, Tensor?>? progress = null, int trajectoryEvery = 0)
    {
        int[] times = Timesteps(schedule.Steps, steps);
        Tensor x = randn(shape, device: generator.device, generator: generator);
        for (int i = 0; i < times.Length; i++)
        {
            int tPrev = i + 1 < times.Length ? times[i + 1] : 0;
            Tensor next = Step(model, schedule, x, times[i], tPrev, eta, generator, clipX0);
            x.Dispose();
            x = next;
            int done = i + 1;
            progress?.Invoke(done, trajectoryEvery > 0 && done % trajectoryEvery == 0 ? x : null);
        }
        return x;
    }
}
