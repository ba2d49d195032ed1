namespace LatentDiffusion.Onnx.Sampling;

/// <summary>
/// The network a sampler integrates: x (batch, C, h, w) flattened, and the network's time (α·scale for an α-deblending
/// model, t ∈ 1..T for an ε-model; the batch shares one) → the prediction, same shape.
/// </summary>
public delegate float[] Denoiser(float[] x, int batch, double time);

/// <summary>
/// The exported UNet as a <see cref="Denoiser"/>, with classifier-free guidance (Ho and Salimans 2022, eq. 6):
/// ε̃ = ε(x, t, ∅) + w·(ε(x, t, y) − ε(x, t, ∅)), the conditional and unconditional halves as one batch of 2B, and only
/// inside the guidance interval (Kynkäänniemi et al. 2024; the plain conditional prediction elsewhere) — the library's
/// <c>Guidance.Guided</c>, the same arithmetic in the same order.
/// </summary>
public static class UNetDenoiser
{
    /// <summary>The unguided network; a conditional UNet is given "no label" (or <paramref name="labels"/> when set).</summary>
    public static Denoiser Plain(OnnxNetwork unet, long[]? labels = null)
    {
        ModelInfo info = unet.Info;
        long[] shape = [0, .. info.LatentShape.Select(d => (long)d)];
        return (x, batch, time) =>
        {
            shape[0] = batch;
            var inputs = new List<(string, Array, long[])>
            {
                ("x", x, shape.ToArray()),
                ("t", Enumerable.Repeat((float)time, batch).ToArray(), [batch]),
            };
            if (info.Classes > 0) inputs.Add(("labels", labels ?? Enumerable.Repeat((long)info.NoLabel, batch).ToArray(), [batch]));
            else if (labels is not null) throw new ArgumentException("an unconditional UNet takes no labels", nameof(labels));
            return unet.Run(inputs, "prediction")[0];
        };
    }

    /// <summary>
    /// Guided by weight <paramref name="w"/> towards <paramref name="labels"/> (one a sample); <paramref name="interval"/>
    /// in the network's own time units (null: everywhere).
    /// </summary>
    public static Denoiser Guided(OnnxNetwork unet, long[] labels, double w, (double Low, double High)? interval)
    {
        ModelInfo info = unet.Info;
        if (info.Classes == 0) throw new OnnxModelException(unet.Path, "is an unconditional UNet: it cannot be asked for a digit");
        if (!double.IsFinite(w) || w < 0) throw new ArgumentOutOfRangeException(nameof(w), w, "must be a finite number ≥ 0");
        if (labels.Any(l => l < 0 || l >= info.Classes)) throw new ArgumentOutOfRangeException(nameof(labels), $"labels must be in 0..{info.Classes - 1}");
        Denoiser conditional = Plain(unet, labels);
        if (w == 0) return Plain(unet);
        if (w == 1) return conditional;
        long[] both = [.. labels, .. Enumerable.Repeat((long)info.NoLabel, labels.Length)];
        Denoiser pair = Plain(unet, both);
        return (x, batch, time) =>
        {
            if (interval is var (low, high) && (time < low || time > high)) return conditional(x, batch, time);
            float[] doubled = [.. x, .. x];                                          // (2B, C, h, w)
            float[] out2 = pair(doubled, 2 * batch, time);
            int n = x.Length;
            var guided = new float[n];
            float wf = (float)w;
            for (int i = 0; i < n; i++)
            {
                float cond = out2[i], uncond = out2[n + i];
                guided[i] = uncond + (cond - uncond) * wf;                           // unconditional + w·(conditional − unconditional)
            }
            return guided;
        };
    }
}
