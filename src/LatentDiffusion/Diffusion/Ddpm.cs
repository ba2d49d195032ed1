using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// Denoising diffusion probabilistic models (Ho et al. 2020) with ε-prediction, as part 3 of the series trains and
/// samples them: the forward process <see cref="QSample"/> (eq. 4), the simple loss <see cref="PLosses"/> (eq. 14,
/// mean squared error over all elements, t uniform in 1..T) and ancestral sampling <see cref="PSample"/> (Algorithm
/// 2) with σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t and no noise at t = 1, over all T steps.
/// </summary>
public static class Ddpm
{
    /// <summary>x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (eq. 4).</summary>
    public static Tensor QSample(NoiseSchedule schedule, Tensor x0, Tensor t, Tensor noise)
    {
        using var scope = NewDisposeScope();
        Tensor ab = schedule.AlphaBar(t);                                              // (B, 1, 1, 1)
        Tensor xt = ab.sqrt().mul(x0).add_(ones_like(ab).sub_(ab).sqrt_().mul(noise));
        return xt.MoveToOuterDisposeScope();
    }

    /// <summary>‖ε − ε_θ(x_t, t)‖² averaged over every element (the post's <c>F.mse_loss(eps, eps_theta)</c>).</summary>
    public static Tensor PLosses(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, Tensor x0, Tensor t, Tensor noise)
    {
        using var scope = NewDisposeScope();
        Tensor xt = QSample(schedule, x0, t, noise);
        Tensor predicted = model(xt, t);
        return nn.functional.mse_loss(predicted, noise).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One ancestral step from time <paramref name="t"/> (1..T, the same for the whole batch) to t − 1 (Algorithm 2):
    /// x_{t−1} = (x_t − (1 − α_t)/√(1 − ᾱ_t) ε_θ)/√α_t + σ_t z, with z from <paramref name="generator"/> when t > 1.
    /// <paramref name="clipX0"/>, when given, clamps the implied x̂_0 to [−c, c] first (not in the post).
    /// </summary>
    public static Tensor PSample(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, Tensor xt, int t, Generator? generator, double? clipX0 = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(t, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(t, schedule.Steps);
        using var scope = NewDisposeScope();
        IReadOnlyList<float> ab = schedule.Values;
        double abT = ab[t - 1], abPrev = t > 1 ? ab[t - 2] : 1.0;
        double alpha = t > 1 ? ab[t - 1] / ab[t - 2] : ab[0];                        // α_t, as the post computes it
        Tensor times = full([xt.shape[0]], t, dtype: ScalarType.Int64, device: xt.device);   // the post's intended torch.full((B,), t)
        Tensor eps = model(xt, times);
        Tensor mean;
        if (clipX0 is double c)
        {
            // x̂_0 = (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t, clamped; then the posterior mean μ̃_t(x_t, x̂_0) (eq. 7).
            Tensor x0 = xt.sub(eps.mul(Math.Sqrt(1 - abT))).div_(Math.Sqrt(abT)).clamp_(-c, c);
            double coefX0 = Math.Sqrt(abPrev) * (1 - alpha) / (1 - abT), coefXt = Math.Sqrt(alpha) * (1 - abPrev) / (1 - abT);
            mean = x0.mul(coefX0).add_(xt.mul(coefXt));
        }
        else
        {
            mean = xt.sub(eps.mul((1 - alpha) / Math.Sqrt(1 - abT))).mul_(1 / Math.Sqrt(alpha));
        }
        if (t > 1)
        {
            double sigma = Math.Sqrt((1 - abPrev) / (1 - abT) * (1 - alpha));
            Tensor z = randn(xt.shape, dtype: xt.dtype, device: xt.device, generator: generator);
            mean = mean.add_(z.mul_(sigma));
        }
        return mean.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Ancestral sampling from x_T ~ N(0, I) (drawn from <paramref name="generator"/>) down to x_0, calling
    /// <paramref name="progress"/> after each step with the step count done and, every <paramref name="trajectoryEvery"/>
    /// steps, the current x_t. Call under no_grad with the model in eval mode.
    /// </summary>
    public static Tensor Sample(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, long[] shape, Generator generator,
        double? clipX0 = null, Action<int, Tensor?>? progress = null, int trajectoryEvery = 0)
    {
        Tensor x = randn(shape, device: generator.device, generator: generator);
        for (int t = schedule.Steps; t >= 1; t--)
        {
            Tensor next = PSample(model, schedule, x, t, generator, clipX0);
            x.Dispose();
            x = next;
            int done = schedule.Steps - t + 1;
            progress?.Invoke(done, trajectoryEvery > 0 && (done % trajectoryEvery == 0) ? x : null);
        }
        return x;
    }
}
