using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Sampling;

/// <summary>
/// Part 3's generation: latents sampled from the UNet by the options' <see cref="ISampler"/> (by default the one the
/// model's post samples with, <see cref="Samplers.Default"/>), unscaled by
/// <see cref="DiffusionConfig.LatentScale"/> and decoded by the VAE, clipped to [0, 1]. Eval mode, no_grad, seeded.
/// Every batch's latents and images, and every trajectory frame, are checked to be finite: a NaN or ∞ anywhere is a
/// <see cref="NonFiniteSamplesException"/>, never an image (clamping would pass NaN through and turn ∞ into white).
/// </summary>
public static class LatentDiffusionSampler
{
    public static LatentSamples Generate(UNet unet, DiffusionConfig config, Vae vae, int count, long seed,
        SamplingOptions? options = null, Action<long, long>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        options ??= new SamplingOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (options.Problem(config) is { } problem) throw new ArgumentException(problem);
        if (options.Labels is { } all && all.Count != count) throw new ArgumentException($"{all.Count} labels for {count} samples");
        ISampler sampler = options.SamplerFor(config);
        int steps = options.StepsFor(config);
        string what = options.Describe(config) + (options.Labels is null ? "" : $", guidance {options.Guidance.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        if (options.ClipX0 && config.Objective != DiffusionObjective.Epsilon) throw new ArgumentException("x̂_0 clipping applies to ε-models only");
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
        long total = (long)count * steps, done = 0;
        double timeScale = config.Objective == DiffusionObjective.AlphaDeblending ? config.AlphaScale : config.Steps;   // the network's time at noise level 1
        (double, double)? interval = options.GuidanceInterval is var (lo, hi) ? (lo * timeScale - 1e-9, hi * timeScale + 1e-9) : null;
        try
        {
            for (int start = 0; start < count; start += options.BatchSize)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                int n = Math.Min(options.BatchSize, count - start);
                bool keep = start == 0 && options.TrajectoryEvery > 0;
                int k = Math.Min(n, options.TrajectoryCount);
                long[] shape = [n, .. config.LatentShape];
                using Tensor? labels = options.Labels is { } l ? tensor(l.Skip(start).Take(n).Select(v => (long)v).ToArray(), device: device) : null;
                Func<Tensor, Tensor, Tensor> network = labels is null ? unet.forward : Guidance.Guided(unet, labels, options.Guidance, interval);
                int every = keep ? options.TrajectoryEvery : 0;
                void Progress(int step, Tensor? xt)
                {
                    progress?.Invoke(done + (long)step * n, total);
                    if (keep && xt is not null)
                    {
                        Tensor frame;
                        using (var scope = NewDisposeScope())
                        {
                            Tensor decoded = Decode(vae, xt.narrow(0, 0, k), config);
                            RequireFinite(decoded, $"at step {step}", what);
                            frame = decoded.cpu().DetachFromDisposeScope();   // owned by the trajectory
                        }
                        trajectory.Add((step, frame));
                        options.OnFrame?.Invoke(step, frame);
                    }
                    options.Cancellation.ThrowIfCancellationRequested();
                }
                Tensor z;
                using (var sampling = NewDisposeScope())   // a cancelled run leaves its x_t here, freed on the way out
                {
                    z = sampler.Sample(new SamplerRun(network, config, schedule, shape, generator, steps, options.Eta, clip, Progress, every));
                    z.MoveToOuterDisposeScope();
                }
                done += (long)n * steps;
                using (z)
                {
                    using var scope = NewDisposeScope();
                    RequireFinite(z, "in the latents", what);
                    Tensor unscaled = z.div(config.LatentScale);
                    latents.Add(unscaled.cpu().MoveToOuterDisposeScope());
                    Tensor decoded = Decode(vae, z, config);
                    RequireFinite(decoded, "in the decoded images", what);
                    images.Add(decoded.cpu().MoveToOuterDisposeScope());
                }
            }
        }
        catch
        {
            foreach (Tensor t in images.Concat(latents).Concat(trajectory.Select(f => f.Item2))) t.Dispose();
            throw;
        }
        Tensor allImages = cat(images, 0), allLatents = cat(latents, 0);
        foreach (Tensor t in images.Concat(latents)) t.Dispose();
        return new LatentSamples(allImages, allLatents, trajectory);
    }

    /// <summary>Throws <see cref="NonFiniteSamplesException"/> when <paramref name="values"/> holds a NaN or ∞.</summary>
    static void RequireFinite(Tensor values, string where, string what)
    {
        using var scope = NewDisposeScope();
        if (!values.isfinite().all().item<bool>()) throw NonFiniteSamplesException.For(what, where);
    }

    /// <summary>
    /// Latents decoded at most this many at a time: a chunk's 32x32 feature maps stay in the CPU's caches, where a whole
    /// batch of 1000 streams them through memory — the decode of 10,000 digits on 2 threads runs 1.4-1.8x as fast in
    /// chunks of 250 (bench/README.md, <c>ldm-bench --generation-profile</c>). Every image is the same bits either way (eval mode:
    /// no statistic crosses images; <see cref="Decode"/>'s test holds it).
    /// </summary>
    public const int DecodeChunk = 250;

    /// <summary>Scaled latents (B, C, h, w) → images (B, channels, H, W) in [0, 1], decoded <see cref="DecodeChunk"/> at a time.</summary>
    public static Tensor Decode(Vae vae, Tensor scaled, DiffusionConfig config)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(scaled);
        ArgumentNullException.ThrowIfNull(config);
        using var scope = NewDisposeScope();
        Tensor z = scaled.div(config.LatentScale);
        Tensor images = z.shape[0] <= DecodeChunk ? vae.Decode(z) : cat(z.split(DecodeChunk).Select(vae.Decode).ToArray(), 0);
        return images.clamp_(0.0, 1.0).MoveToOuterDisposeScope();
    }
}
