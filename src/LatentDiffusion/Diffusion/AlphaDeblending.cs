using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// Iterative α-(de)blending (Heitz, Belcour and Chambon 2023) in the follow-up post's convention (reversed relative to
/// the paper): x0 is a data latent, x1 ~ N(0, I), x_α = (1 − α) x0 + α x1 (<see cref="Blend"/>), and the network D(x_α, α)
/// learns E[x1 − x0 | x_α] by mean squared error (<see cref="PLosses"/>, the post's <c>do_step</c>, α ~ U[0, 1)).
/// Sampling integrates dx_α/dα = D from α = 1 to 0 over S uniform steps: <see cref="EulerStep"/> is the post's
/// <c>do_diffusion_backward</c> (x += (α_{k−1} − α_k)·D); <see cref="HeunStep"/> is the second-order (trapezoidal)
/// variant of Karras et al. 2022 (Algorithm 1), two network evaluations a step, Euler on the last step into α = 0.
/// The network sees α·<c>alphaScale</c> as its time (see <see cref="DiffusionConfig.AlphaScale"/>).
/// </summary>
public static class AlphaDeblending
{
    /// <summary>
    /// Most sampling steps S, ten times DDPM's T = 1000. The ODE has no step limit of its own, but its discretisation
    /// error falls as 1/S (Euler) or 1/S² (Heun) while the cost grows as S: far before the float32 grid of α (2^24
    /// steps) ends, a run stops being a sampling and becomes a wait (10,000 steps of 10,000 digits are hours here).
    /// </summary>
    public const int MaxSteps = 10_000;

    /// <summary>x_α = (1 − α) x0 + α x1 for α (B,) or (B, 1, 1, 1).</summary>
    public static Tensor Blend(Tensor x0, Tensor x1, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        Tensor a = alpha.view(-1, 1, 1, 1);
        return x0.add(x1.sub(x0).mul_(a)).MoveToOuterDisposeScope();                 // x0 + α(x1 − x0)
    }

    /// <summary>‖(x1 − x0) − D(x_α, α·scale)‖² averaged over every element (the post's <c>mse_loss(x1 - x0, pred)</c>).</summary>
    public static Tensor PLosses(Func<Tensor, Tensor, Tensor> model, Tensor x0, Tensor x1, Tensor alpha, double alphaScale)
    {
        using var scope = NewDisposeScope();
        Tensor xAlpha = Blend(x0, x1, alpha);
        Tensor predicted = model(xAlpha, alpha.view(-1).mul(alphaScale));
        return nn.functional.mse_loss(predicted, x1.sub(x0)).MoveToOuterDisposeScope();
    }

    /// <summary>D(x, α) for the whole batch at one α.</summary>
    static Tensor Direction(Func<Tensor, Tensor, Tensor> model, Tensor x, double alpha, double alphaScale)
    {
        using var scope = NewDisposeScope();
        Tensor times = full([x.shape[0]], alpha * alphaScale, dtype: ScalarType.Float32, device: x.device);
        return model(x, times).MoveToOuterDisposeScope();
    }

    /// <summary>One Euler step from α to α' &lt; α: x + (α' − α)·D(x, α). One network evaluation.</summary>
    public static Tensor EulerStep(Func<Tensor, Tensor, Tensor> model, Tensor x, double alpha, double alphaNext, double alphaScale)
    {
        using var scope = NewDisposeScope();
        Tensor d = Direction(model, x, alpha, alphaScale);
        return x.add(d.mul_(alphaNext - alpha)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One Heun step from α to α' &gt; 0: the Euler prediction x̃ = x + (α' − α)·D(x, α), then
    /// x + (α' − α)·(D(x, α) + D(x̃, α'))/2. Two network evaluations.
    /// </summary>
    public static Tensor HeunStep(Func<Tensor, Tensor, Tensor> model, Tensor x, double alpha, double alphaNext, double alphaScale)
    {
        using var scope = NewDisposeScope();
        double h = alphaNext - alpha;
        Tensor d = Direction(model, x, alpha, alphaScale);
        Tensor euler = x.add(d.mul(h));
        Tensor dNext = Direction(model, euler, alphaNext, alphaScale);
        return x.add(d.add_(dNext).mul_(h / 2)).MoveToOuterDisposeScope();
    }

    /// <summary>Network evaluations of an S-step run: S with Euler, 2S − 1 with Heun (its last step is Euler).</summary>
    public static int Evaluations(int steps, bool heun) => heun ? 2 * steps - 1 : steps;

    /// <summary>
    /// From x1 ~ N(0, I) (drawn from <paramref name="generator"/>) at α = 1 down to α = 0 in <paramref name="steps"/>
    /// steps over the levels of <see cref="StepGrids.Alphas"/> (uniform α_k = k/S by default, the post's);
    /// <paramref name="progress"/> after each step with the steps done and, every <paramref name="trajectoryEvery"/>
    /// steps, the current x. Deterministic given x1. Call under no_grad, eval mode.
    /// </summary>
    public static Tensor Sample(Func<Tensor, Tensor, Tensor> model, long[] shape, Generator generator, int steps, bool heun,
        double alphaScale, Action<int, Tensor?>? progress = null, int trajectoryEvery = 0, StepSpacing spacing = StepSpacing.Uniform)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        double[] alphas = StepGrids.Alphas(steps, spacing);
        Tensor x = randn(shape, device: generator.device, generator: generator);
        for (int i = 0; i < steps; i++)
        {
            double alpha = alphas[i], alphaNext = alphas[i + 1];
            Tensor next = heun && i + 1 < steps
                ? HeunStep(model, x, alpha, alphaNext, alphaScale)
                : EulerStep(model, x, alpha, alphaNext, alphaScale);
            x.Dispose();
            x = next;
            int done = i + 1;
            progress?.Invoke(done, trajectoryEvery > 0 && done % trajectoryEvery == 0 ? x : null);
        }
        return x;
    }
}
