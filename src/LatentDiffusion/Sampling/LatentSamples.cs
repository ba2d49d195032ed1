using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>What sampling produced: images in [0, 1], the final latents (unscaled), and optional trajectories (decoded, [steps][k] images).</summary>
public sealed record LatentSamples(Tensor Images, Tensor Latents, IReadOnlyList<(int Step, Tensor Images)> Trajectory) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Latents.Dispose();
        foreach (var (_, t) in Trajectory) t.Dispose();
    }
}
