namespace LatentDiffusion.Onnx.Sampling;

/// <summary>
/// DDIM (Song, Meng and Ermon 2021) as the library's <c>Ddim.Sample</c>: the times τ_i = round(1 + i(T − 1)/(S − 1))
/// descending ("trailing", starting at T), and per step (eq. 12) x_{τ−} = √ᾱ_{τ−} x̂_0 + √(1 − ᾱ_{τ−} − σ²) ε + σ z with
/// x̂_0 = (x_τ − √(1 − ᾱ_τ) ε)/√ᾱ_τ (eq. 9) and σ = η √((1 − ᾱ_{τ−})/(1 − ᾱ_τ)) √(1 − ᾱ_τ/ᾱ_{τ−}) (eq. 16); ᾱ_0 = 1.
/// ᾱ comes from the file's metadata, float32 as the library computed it.
/// </summary>
public sealed class DdimSampler : ILiteSampler
{
    public string Name => "ddim";

    public string Objective => "epsilon";


    public float[] Sample(Denoiser network, float[] x, int batch, int steps, ModelInfo info, double eta, Gaussian noise, Action<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eta);
        float[] ab = info.AlphasCumprod;
        int[] times = LatentDiffusion.Diffusion.TrailingTimesteps.Of(info.Timesteps, steps);
        for (int s = 0; s < times.Length; s++)
        {
            int t = times[s], tPrev = s + 1 < times.Length ? times[s + 1] : 0;
            double abT = ab[t - 1], abPrev = tPrev > 0 ? ab[tPrev - 1] : 1.0;
            float[] eps = network(x, batch, t);
            float noiseScale = (float)Math.Sqrt(1 - abT), signalScale = (float)Math.Sqrt(abT);
            double sigma = eta * Math.Sqrt((1 - abPrev) / (1 - abT) * (1 - abT / abPrev));
            float direction = (float)Math.Sqrt(Math.Max(0, 1 - abPrev - sigma * sigma)), prevScale = (float)Math.Sqrt(abPrev);
            float[]? z = sigma > 0 ? noise.Next(x.Length) : null;
            for (int i = 0; i < x.Length; i++)
            {
                float x0 = (x[i] - eps[i] * noiseScale) / signalScale;                           // x̂_0 (eq. 9)
                float next = x0 * prevScale + eps[i] * direction;
                x[i] = z is null ? next : next + z[i] * (float)sigma;
            }
            progress?.Invoke(s + 1);
        }
        return x;
    }
}
