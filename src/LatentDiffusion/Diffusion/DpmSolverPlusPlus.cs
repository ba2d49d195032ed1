using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2): the multistep second-order solver of the diffusion
/// ODE in its data-prediction form. For a process x = a_i·x0 + s_i·noise at levels i = 0 … S (a signal, s noise) and
/// λ_i = log(a_i/s_i), each step from level i − 1 to i (h_i = λ_i − λ_{i−1}) is
/// x_i = (s_i/s_{i−1}) x − a_i(e^{−h_i} − 1) D_i, where D_i is the data prediction x̂_0 at level i − 1 (first step), or
/// (1 + 1/(2r_i)) x̂_0^{(i−1)} − 1/(2r_i) x̂_0^{(i−2)} with r_i = h_{i−1}/h_i (eq. 9-10). The last step, into s = 0
/// where λ = ∞, returns the data prediction (first order there, as the paper's lower-order final step). One network
/// evaluation a step. The solver needs only the ratio s/a, so one integrator serves both kinds of model:
/// <list type="bullet">
/// <item>an ε-model trained as DDPM: a = √ᾱ_t, s = √(1 − ᾱ_t), x̂_0 = (x − s·ε_θ)/a (<see cref="Sample"/>);</item>
/// <item>an α-deblending model: a = 1 − α, s = α, x̂_0 = x − α·D_θ(x, α) since D = E[x1 − x0 | x_α]
/// (<see cref="SampleAlpha"/>). Its first order is the post's Euler step: x + (α' − α)·D = (α'/α)·x + (1 − α'/α)·x̂_0.</item>
/// </list>
/// </summary>
public static class DpmSolverPlusPlus
{
    /// <summary>
    /// From x_T ~ N(0, I) (drawn from <paramref name="generator"/>) over <paramref name="steps"/> evaluation times spaced
    /// by <paramref name="spacing"/> (<see cref="StepGrids.Timesteps"/>: DDIM's by default) to x_0;
    /// <paramref name="clipX0"/> clamps every data prediction to [−c, c]. Deterministic given x_T. Call under no_grad
    /// with the model in eval mode.
    /// </summary>
    public static Tensor Sample(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, long[] shape, Generator generator,
        int steps, double? clipX0 = null, Action<int, Tensor?>? progress = null, int trajectoryEvery = 0, StepSpacing spacing = StepSpacing.Uniform)
    {
        int[] times = StepGrids.Timesteps(schedule, steps, spacing);
        IReadOnlyList<float> ab = schedule.Values;
        double[] signal = [.. times.Select(t => Math.Sqrt(ab[t - 1])), 1];
        double[] noise = [.. times.Select(t => Math.Sqrt(1 - ab[t - 1])), 0];
        Tensor x = randn(shape, device: generator.device, generator: generator);
        return Integrate(x, signal, noise, (xt, i) =>
        {
            using var scope = NewDisposeScope();
            Tensor tt = full([xt.shape[0]], times[i], dtype: ScalarType.Int64, device: xt.device);
            Tensor eps = model(xt, tt);
            Tensor data = xt.sub(eps.mul(noise[i])).div_(signal[i]);                                    // x̂_0 = (x − s ε)/a
            if (clipX0 is double c) data = data.clamp_(-c, c);
            return data.MoveToOuterDisposeScope();
        }, progress, trajectoryEvery);
    }

    /// <summary>
    /// An α-deblending model's ODE from x1 ~ N(0, I) at α = 1 to α = 0 over the <paramref name="steps"/> levels of
    /// <see cref="StepGrids.Alphas"/>; the network sees α·<paramref name="alphaScale"/> as its time. Deterministic given x1.
    /// </summary>
    public static Tensor SampleAlpha(Func<Tensor, Tensor, Tensor> model, long[] shape, Generator generator, int steps, double alphaScale,
        Action<int, Tensor?>? progress = null, int trajectoryEvery = 0, StepSpacing spacing = StepSpacing.Uniform)
    {
        double[] alphas = StepGrids.Alphas(steps, spacing);
        double[] signal = alphas.Select(a => 1 - a).ToArray();
        Tensor x = randn(shape, device: generator.device, generator: generator);
        return Integrate(x, signal, alphas, (xt, i) =>
        {
            using var scope = NewDisposeScope();
            Tensor times = full([xt.shape[0]], alphas[i] * alphaScale, dtype: ScalarType.Float32, device: xt.device);
            Tensor d = model(xt, times);                                                                 // E[x1 − x0 | x_α]
            return xt.sub(d.mul_(alphas[i])).MoveToOuterDisposeScope();                                   // x̂_0 = x − α·D
        }, progress, trajectoryEvery);
    }

    /// <summary>
    /// The solver itself over levels 0 … S (<paramref name="signal"/>, <paramref name="noise"/>, S + 1 each, the last
    /// with noise 0): <paramref name="dataPrediction"/>(x, i) is x̂_0 at level i. Takes ownership of <paramref name="x"/>.
    /// At a level of zero signal (α = 1), λ = −∞: the first step then is exactly x̂_0-plus-rescaled-noise and the next
    /// one first order (r = ∞), as the formulas give in floating point.
    /// </summary>
    public static Tensor Integrate(Tensor x, double[] signal, double[] noise, Func<Tensor, int, Tensor> dataPrediction,
        Action<int, Tensor?>? progress = null, int trajectoryEvery = 0)
    {
        if (signal.Length != noise.Length || signal.Length < 2) throw new ArgumentException("signal and noise need the same S + 1 ≥ 2 levels");
        double Lambda(int i) => Math.Log(signal[i] / noise[i]);
        int steps = signal.Length - 1;
        Tensor? previous = null;                                                                         // x̂_0 of the step before
        double previousH = 0;
        try
        {
            for (int i = 0; i < steps; i++)
            {
                Tensor next;
                Tensor data;
                using (var scope = NewDisposeScope())
                {
                    data = dataPrediction(x, i);
                    if (noise[i + 1] == 0)
                        next = data.clone();                                                             // into data: the prediction
                    else
                    {
                        double h = Lambda(i + 1) - Lambda(i);
                        Tensor d = data;
                        if (previous is not null)
                        {
                            double r = previousH / h;
                            d = data.mul(1 + 1 / (2 * r)).sub_(previous.mul(1 / (2 * r)));                 // eq. 10's D_i
                        }
                        next = x.mul(noise[i + 1] / noise[i]).sub_(d.mul(signal[i + 1] * (Math.Exp(-h) - 1)));
                        previousH = h;
                    }
                    data = data.MoveToOuterDisposeScope();
                    next = next.MoveToOuterDisposeScope();
                }
                previous?.Dispose();
                previous = data;
                x.Dispose();
                x = next;
                int done = i + 1;
                progress?.Invoke(done, trajectoryEvery > 0 && done % trajectoryEvery == 0 ? x : null);
            }
            return x;
        }
        catch
        {
            x.Dispose();
            throw;
        }
        finally
        {
            previous?.Dispose();
        }
    }
}
