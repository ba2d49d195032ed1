using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2): the multistep second-order solver of the diffusion
/// ODE in its data-prediction form, for an ε-model trained as DDPM. With α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t) and
/// λ_t = log(α_t/σ_t), each step from t_{i−1} to t_i (h_i = λ_{t_i} − λ_{t_{i−1}}) is
/// x_{t_i} = (σ_{t_i}/σ_{t_{i−1}}) x − α_{t_i}(e^{−h_i} − 1) D_i, where D_i is the data prediction
/// x̂_0 = (x − σ ε_θ)/α at t_{i−1} (first step), or (1 + 1/(2r_i)) x̂_0^{(i−1)} − 1/(2r_i) x̂_0^{(i−2)} with
/// r_i = h_{i−1}/h_i (eq. 9-10). The times are DDIM's (<see cref="Ddim.Timesteps"/>, from T down to 1); the last step,
/// into t = 0 where σ = 0 and λ = ∞, returns the data prediction (first order there, as the paper's lower-order final
/// step). One network evaluation a step.
/// </summary>
public static class DpmSolverPlusPlus
{
    /// <summary>
    /// From x_T ~ N(0, I) (drawn from <paramref name="generator"/>) over the <paramref name="steps"/> times of
    /// <see cref="Ddim.Timesteps"/> to x_0; <paramref name="clipX0"/> clamps every data prediction to [−c, c].
    /// Deterministic given x_T. Call under no_grad with the model in eval mode.
    /// </summary>
    public static Tensor Sample(Func<Tensor, Tensor, Tensor> model, NoiseSchedule schedule, long[] shape, Generator generator,
        int steps, double? clipX0 = null, Action<int, Tensor?>? progress = null, int trajectoryEvery = 0)
    {
        int[] times = Ddim.Timesteps(schedule.Steps, steps);
        IReadOnlyList<float> ab = schedule.Values;
        double Alpha(int t) => Math.Sqrt(ab[t - 1]);
        double Sigma(int t) => Math.Sqrt(1 - ab[t - 1]);
        double Lambda(int t) => Math.Log(Alpha(t) / Sigma(t));
        Tensor x = randn(shape, device: generator.device, generator: generator);
        Tensor? previous = null;                                                              // x̂_0 of the step before
        double previousH = 0;
        try
        {
            for (int i = 0; i < times.Length; i++)
            {
                int t = times[i];
                Tensor next;
                Tensor data;
                using (var scope = NewDisposeScope())
                {
                    Tensor tt = full([x.shape[0]], t, dtype: ScalarType.Int64, device: x.device);
                    Tensor eps = model(x, tt);
                    data = x.sub(eps.mul(Sigma(t))).div_(Alpha(t));                            // x̂_0 = (x − σ ε)/α
                    if (clipX0 is double c) data = data.clamp_(-c, c);
                    if (i + 1 == times.Length)
                        next = data.clone();                                                   // into t = 0: the data prediction
                    else
                    {
                        int s = times[i + 1];
                        double h = Lambda(s) - Lambda(t);
                        Tensor d = data;
                        if (previous is not null)
                        {
                            double r = previousH / h;
                            d = data.mul(1 + 1 / (2 * r)).sub_(previous.mul(1 / (2 * r)));       // eq. 10's D_i
                        }
                        next = x.mul(Sigma(s) / Sigma(t)).sub_(d.mul(Alpha(s) * (Math.Exp(-h) - 1)));
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
