using static TorchSharp.torch;

namespace LatentDiffusion.Diffusion;

/// <summary>
/// A variance schedule over t = 1..T as the post defines it: <see cref="AlphasCumprod"/>[t-1] = ᾱ_t = Π_{s ≤ t}(1 − β_s)
/// (Ho et al. 2020, §2), float32 like the post's tensors. The post's linear schedule (β from 1e-4 to 2e-2 over T = 1000)
/// is the one it trains and samples with; its cosine variant (Nichol and Dhariwal 2021, eq. 17, but dividing by T + 1
/// and without clipping β) appears in its schedule figure only.
/// </summary>
public sealed class NoiseSchedule : IDisposable
{
    NoiseSchedule(string name, Tensor alphasCumprod)
    {
        Name = name;
        AlphasCumprod = alphasCumprod;
        Steps = (int)alphasCumprod.shape[0];
        Values = alphasCumprod.data<float>().ToArray();
    }

    /// <summary>"linear" or "cosine".</summary>
    public string Name { get; }

    /// <summary>T.</summary>
    public int Steps { get; }

    /// <summary>ᾱ_1 … ᾱ_T, (T,) float32 (index t − 1 for time t).</summary>
    public Tensor AlphasCumprod { get; }

    /// <summary>The same values on the host.</summary>
    public IReadOnlyList<float> Values { get; }

    /// <summary>The post's <c>make_linear_schedule</c>: β = linspace(start, end, T), ᾱ = cumprod(1 − β).</summary>
    public static NoiseSchedule Linear(int steps = 1000, double start = 1e-4, double end = 2e-2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        using var scope = NewDisposeScope();
        Tensor betas = linspace(start, end, steps, dtype: ScalarType.Float32);
        Tensor alphas = ones_like(betas).sub_(betas);
        return new NoiseSchedule("linear", alphas.cumprod(0).MoveToOuterDisposeScope());
    }

    /// <summary>The post's <c>make_cosine_schedule</c>: ᾱ(t) = cos²(½π (t/(T+1) + s)/(1 + s)) / ᾱ(0) for t = 1..T.</summary>
    public static NoiseSchedule Cosine(int steps = 1000, double s = 0.008)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        using var scope = NewDisposeScope();
        Tensor t = arange(steps + 1, dtype: ScalarType.Float32);
        Tensor x = t.div(steps + 1).add_(s).div_(1.0 + s).mul_(0.5 * Math.PI);
        Tensor alphaProd = x.cos().square();
        alphaProd = alphaProd.div(alphaProd[0]);
        return new NoiseSchedule("cosine", alphaProd.narrow(0, 1, steps).contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>ᾱ_t for a batch of times (B,) int64 in 1..T → (B, 1, 1, 1).</summary>
    public Tensor AlphaBar(Tensor t)
    {
        using var scope = NewDisposeScope();
        Tensor index = t.to_type(ScalarType.Int64).sub(1);
        return AlphasCumprod.to(t.device).index_select(0, index).view(-1, 1, 1, 1).MoveToOuterDisposeScope();
    }

    public void Dispose() => AlphasCumprod.Dispose();
}
