using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>
/// Part 3's time embedding (after Vaswani et al. 2017, §3.5): for a time t, [sin(t·f_0 … t·f_{h-1}), cos(t·f_0 …)]
/// with f_i = exp(−i·ln(scale)/(h − 1)), h = dim/2. The post feeds the raw integer t ∈ {1..T} with dim 16 and scale
/// 1000, so f runs from 1 down to 1/1000. No parameters (the post keeps the factors as a plain attribute, not a
/// buffer, so they are not in its state_dict either). (B,) → (B, dim).
/// </summary>
public sealed class SinusoidalPositionalEmbedding : Module<Tensor, Tensor>
{
    public SinusoidalPositionalEmbedding(int dim = 16, double scale = 1000) : base(nameof(SinusoidalPositionalEmbedding))
    {
        if (dim < 4 || dim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "must be even and at least 4");
        if (!(scale > 1)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "must be greater than 1");
        Dim = dim;
        Scale = scale;
        RegisterComponents();
    }

    public int Dim { get; }

    public double Scale { get; }

    /// <summary>The factors f_i, (dim/2,) float32, computed as the post does (float32 exp of float32 products).</summary>
    public Tensor Factors(Device? device = null)
    {
        int half = Dim / 2;
        double embScale = Math.Log(Scale) / (half - 1);
        using Tensor range = arange(half, dtype: ScalarType.Float32, device: device);
        using Tensor scaled = range.mul((float)-embScale);
        return scaled.exp();
    }

    /// <summary>(B,) times (integer or real) → (B, dim) float32.</summary>
    public override Tensor forward(Tensor time)
    {
        using var scope = NewDisposeScope();
        Tensor factors = Factors(time.device);                                  // (dim/2,)
        Tensor embeddings = time.to_type(ScalarType.Float32).unsqueeze(1).mul(factors);   // (B, dim/2)
        return cat([embeddings.sin(), embeddings.cos()], -1).MoveToOuterDisposeScope();
    }
}
