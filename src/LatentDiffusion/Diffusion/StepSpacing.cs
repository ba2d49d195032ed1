namespace LatentDiffusion.Diffusion;

/// <summary>Where a few-step sampler puts its steps along the noise levels.</summary>
public enum StepSpacing
{
    /// <summary>Evenly in the model's own time: t for an ε-model (DDIM's grid), α for an α-deblending model (the post's).</summary>
    Uniform,

    /// <summary>
    /// Karras et al. 2022 (EDM, eq. 5): σ_i = (σ_max^{1/ρ} + u_i (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ with ρ = 7, where σ is
    /// the noise-to-signal ratio; the steps crowd towards low noise, where detail is decided.
    /// </summary>
    Karras,

    /// <summary>Evenly in λ = −log σ, the log signal-to-noise ratio (Lu et al. 2022, DPM-Solver's default for few steps).</summary>
    LogSnr,
}

/// <summary>
/// The noise levels of an S-step sampling run under a <see cref="StepSpacing"/>, for both kinds of model. The noise
/// level is σ = noise/signal: √((1 − ᾱ_t)/ᾱ_t) for an ε-model, α/(1 − α) for an α-deblending model (x_α = (1 − α)·x0 +
/// α·x1 = (1 − α)(x0 + σ·x1)).
/// </summary>
public static class StepGrids
{
    /// <summary>EDM's ρ.</summary>
    public const double Rho = 7;

    /// <summary>EDM's noise range for α-deblending grids (Karras et al. 2022, Table 1): σ_max = 80, σ_min = 0.002.</summary>
    public const double SigmaMax = 80, SigmaMin = 0.002;

    /// <summary>σ at fraction <paramref name="u"/> ∈ [0, 1] of the way from <paramref name="max"/> (u = 0) to <paramref name="min"/> (u = 1).</summary>
    public static double Sigma(StepSpacing spacing, double u, double max, double min) => spacing switch
    {
        StepSpacing.Karras => Math.Pow(Math.Pow(max, 1 / Rho) + u * (Math.Pow(min, 1 / Rho) - Math.Pow(max, 1 / Rho)), Rho),
        StepSpacing.LogSnr => Math.Exp(Math.Log(max) + u * (Math.Log(min) - Math.Log(max))),
        _ => throw new ArgumentOutOfRangeException(nameof(spacing), spacing, "uniform spacing is in the model's own time, not in σ"),
    };

    /// <summary>
    /// An α-deblending run's S + 1 levels, from α = 1 (pure noise) to α = 0 (data): uniform α_k = (S − k)/S, or the
    /// interior levels α = σ/(1 + σ) at σ(k/S) between <see cref="SigmaMax"/> and <see cref="SigmaMin"/>.
    /// </summary>
    public static double[] Alphas(int steps, StepSpacing spacing)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var alphas = new double[steps + 1];
        alphas[0] = 1;
        for (int k = 1; k < steps; k++)
        {
            if (spacing == StepSpacing.Uniform) alphas[k] = (double)(steps - k) / steps;   // k/S counted from the data end, as the post computes it
            else
            {
                double sigma = Sigma(spacing, (double)k / steps, SigmaMax, SigmaMin);
                alphas[k] = sigma / (1 + sigma);
            }
        }
        alphas[steps] = 0;
        return alphas;
    }

    /// <summary>
    /// An ε-model's S evaluation times, from T down to 1, strictly decreasing (the step after the last goes to data):
    /// DDIM's uniform grid (<see cref="Ddim.Timesteps"/>), or the integer times nearest σ(i/(S − 1)) between σ(T) and σ(1).
    /// </summary>
    public static int[] Timesteps(NoiseSchedule schedule, int steps, StepSpacing spacing)
    {
        if (spacing == StepSpacing.Uniform) return Ddim.Timesteps(schedule.Steps, steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, schedule.Steps);
        IReadOnlyList<float> ab = schedule.Values;
        double SigmaOf(int t) => Math.Sqrt((1 - ab[t - 1]) / ab[t - 1]);
        if (steps == 1) return [schedule.Steps];
        double max = SigmaOf(schedule.Steps), min = SigmaOf(1);
        var times = new int[steps];
        for (int i = 0; i < steps; i++)
        {
            double sigma = Sigma(spacing, (double)i / (steps - 1), max, min);
            int t = Nearest(sigma);
            // Strictly decreasing, and room left for the times still to come (each at least one below the last).
            if (i > 0) t = Math.Min(t, times[i - 1] - 1);
            times[i] = Math.Max(t, steps - i);
        }
        return times;

        int Nearest(double sigma)
        {
            int best = 1;
            for (int t = 2; t <= schedule.Steps; t++)
                if (Math.Abs(Math.Log(SigmaOf(t) / sigma)) < Math.Abs(Math.Log(SigmaOf(best) / sigma))) best = t;
            return best;
        }
    }
}
