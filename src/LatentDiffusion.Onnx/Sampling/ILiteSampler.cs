namespace LatentDiffusion.Onnx.Sampling;

/// <summary>
/// One way to integrate an exported UNet from noise to data, in plain float arrays: the counterpart of the library's
/// <c>ISampler</c> under the same name. Step counts and defaults come from the file's metadata (<see cref="SamplerInfo"/>),
/// not from here. The family is listed once, in <see cref="LiteSamplers.All"/>.
/// </summary>
public interface ILiteSampler
{
    /// <summary>The library's name for it (<c>iadb</c>, <c>heun</c>, <c>ddim</c>).</summary>
    string Name { get; }

    /// <summary>The objective of the models it fits ("epsilon" or "alpha-deblending").</summary>
    string Objective { get; }

    /// <summary>
    /// From <paramref name="x"/> at full noise (batch, C, h, w), consumed, to the (scaled) latents at data level, over
    /// <paramref name="steps"/> steps; <paramref name="noise"/> draws any noise the steps add (DDIM with η &gt; 0).
    /// </summary>
    float[] Sample(Denoiser network, float[] x, int batch, int steps, ModelInfo info, double eta, Gaussian noise, Action<int>? progress = null);
}

/// <summary>The samplers ldm-lite runs, listed once.</summary>
public static class LiteSamplers
{
    public static IReadOnlyList<ILiteSampler> All { get; } = 
        [new AlphaDeblendingSampler(heun: false), new AlphaDeblendingSampler(heun: true), new DdimSampler(), new AlphaDeblendingSampler(heun: false, name: "student")];

    /// <summary>The sampler called <paramref name="name"/>, or null.</summary>
    public static ILiteSampler? Find(string name) => All.FirstOrDefault(s => s.Name == name);
}
