namespace LatentDiffusion.Onnx.Sampling;

/// <summary>
/// Iterative α-(de)blending (Heitz, Belcour and Chambon 2023) as the library's <c>AlphaDeblending.Sample</c>: from x1 at
/// α = 1 to α = 0 over S uniform steps α_k = k/S, the network seeing α·scale as its time. Euler (<c>iadb</c>):
/// x + (α' − α)·D(x, α). Heun (<c>heun</c>, Karras et al. 2022, Algorithm 1): x̃ = x + (α' − α)·D(x, α), then
/// x + (α' − α)·(D(x, α) + D(x̃, α'))/2, Euler on the last step into α = 0. float32 arithmetic in the library's order.
/// A distilled student's sampler (<c>student</c>) is the Euler one under its own name, at the steps the file allows.
/// </summary>
public sealed class AlphaDeblendingSampler(bool heun, string? name = null) : ILiteSampler
{
    public string Name => name ?? (heun ? "heun" : "iadb");

    public string Objective => "alpha-deblending";

    public float[] Sample(Denoiser network, float[] x, int batch, int steps, ModelInfo info, double eta, Gaussian noise, Action<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        double scale = info.AlphaScale;
        for (int k = steps; k >= 1; k--)
        {
            double alpha = (double)k / steps, alphaNext = (double)(k - 1) / steps;
            float h = (float)(alphaNext - alpha);
            float[] d = network(x, batch, alpha * scale);
            if (heun && k > 1)
            {
                var euler = new float[x.Length];
                for (int i = 0; i < x.Length; i++) euler[i] = x[i] + d[i] * h;
                float[] dNext = network(euler, batch, alphaNext * scale);
                float half = (float)((alphaNext - alpha) / 2);
                for (int i = 0; i < x.Length; i++) x[i] += (d[i] + dNext[i]) * half;
            }
            else
                for (int i = 0; i < x.Length; i++) x[i] += d[i] * h;
            progress?.Invoke(steps - k + 1);
        }
        return x;
    }
}
