using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Generation;

/// <summary>How to sample a latent diffusion model.</summary>
public sealed record SamplingOptions
{
    /// <summary>Latents per batch; the seed's stream is consumed batch after batch, so results depend on it. Default 1000.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>Clamp x̂_0 to the training latents' range at every step (not in the post; its samples can diverge). Default off.</summary>
    public bool ClipX0 { get; init; }

    /// <summary>Keep every k-th step's decoded latent for a denoising-trajectory figure (0: none).</summary>
    public int TrajectoryEvery { get; init; }

    /// <summary>How many of the first samples to keep trajectories of.</summary>
    public int TrajectoryCount { get; init; } = 8;

    /// <summary>Where the UNet and VAE are and the draws are made (null: CPU). The results come back on the CPU.</summary>
    public Device? Device { get; init; }
}

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

/// <summary>
/// Part 3's generation: DDPM ancestral sampling (<see cref="Ddpm.Sample"/>) of latents from the UNet, unscaled by
/// <see cref="DiffusionConfig.LatentScale"/> and decoded by the VAE, clipped to [0, 1]. Eval mode, no_grad, seeded.
/// </summary>
public static class LatentDiffusionSampler
{
    public static LatentSamples Generate(UNet unet, DiffusionConfig config, Vae vae, int count, long seed,
        SamplingOptions? options = null, Action<long, long>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        options ??= new SamplingOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        double? clip = options.ClipX0 ? config.LatentRange ?? throw new InvalidOperationException("the model records no latent range to clip x̂_0 to") : null;
        unet.eval();
        vae.eval();
        using var noGrad = no_grad();
        Device device = options.Device ?? CPU;
        using var generator = new Generator(unchecked((ulong)seed), device);
        using NoiseSchedule schedule = config.CreateSchedule();
        var images = new List<Tensor>();
        var latents = new List<Tensor>();
        var trajectory = new List<(int, Tensor)>();
        long total = (long)count * schedule.Steps, done = 0;
        for (int start = 0; start < count; start += options.BatchSize)
        {
            int n = Math.Min(options.BatchSize, count - start);
            bool keep = start == 0 && options.TrajectoryEvery > 0;
            int k = Math.Min(n, options.TrajectoryCount);
            Tensor z = Ddpm.Sample(unet.forward, schedule, [n, .. config.LatentShape], generator, clip, (step, xt) =>
            {
                progress?.Invoke(done + (long)step * n, total);
                if (keep && xt is not null)
                {
                    using var scope = NewDisposeScope();
                    trajectory.Add((step, Decode(vae, xt.narrow(0, 0, k), config).cpu().MoveToOuterDisposeScope()));
                }
            }, keep ? options.TrajectoryEvery : 0);
            done += (long)n * schedule.Steps;
            using (z)
            {
                using var scope = NewDisposeScope();
                Tensor unscaled = z.div(config.LatentScale);
                latents.Add(unscaled.cpu().MoveToOuterDisposeScope());
                images.Add(Decode(vae, z, config).cpu().MoveToOuterDisposeScope());
            }
        }
        Tensor allImages = cat(images, 0), allLatents = cat(latents, 0);
        foreach (Tensor t in images.Concat(latents)) t.Dispose();
        return new LatentSamples(allImages, allLatents, trajectory);
    }

    /// <summary>Scaled latents → images in [0, 1].</summary>
    static Tensor Decode(Vae vae, Tensor scaled, DiffusionConfig config)
    {
        using var scope = NewDisposeScope();
        return vae.Decode(scaled.div(config.LatentScale)).clamp_(0.0, 1.0).MoveToOuterDisposeScope();
    }
}
