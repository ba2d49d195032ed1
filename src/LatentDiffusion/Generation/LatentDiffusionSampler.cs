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

    /// <summary>
    /// Called with each trajectory frame (step, decoded images (k, 1, 32, 32) on the CPU) as soon as it is made, so a
    /// caller can show the denoising while it runs. The tensor is the one kept in <see cref="LatentSamples.Trajectory"/>:
    /// read it, do not dispose it. The callback runs inside the sampler's dispose scope, so tensors it makes are freed
    /// when the batch ends (<c>DetachFromDisposeScope()</c> keeps one longer). Null: none.
    /// </summary>
    public Action<int, Tensor>? OnFrame { get; init; }

    /// <summary>
    /// Checked before each batch and between sampler steps: once cancelled, sampling stops with an
    /// <see cref="OperationCanceledException"/> and frees what it had made. Default: never cancelled.
    /// </summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Where the UNet and VAE are and the draws are made (null: CPU). The results come back on the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Which sampler (null: the model's own — DDPM for an ε-model, α-deblending for an α-model).</summary>
    public SamplerKind? Sampler { get; init; }

    /// <summary>Sampling steps S (null: T for DDPM and DDIM, 50 for α-deblending). DDPM always walks all T.</summary>
    public int? Steps { get; init; }

    /// <summary>DDIM's η (0: deterministic; 1 with S = T: DDPM). Default 0.</summary>
    public double Eta { get; init; }

    /// <summary>α-deblending: second-order (Heun) steps instead of the post's Euler steps. Default off.</summary>
    public bool Heun { get; init; }

    /// <summary>Class-conditional models: the digit of each sample (length = count), null: unconditional ("no label").</summary>
    public IReadOnlyList<int>? Labels { get; init; }

    /// <summary>Classifier-free guidance weight w with <see cref="Labels"/> (0: unconditional, 1: conditional, &gt; 1: guided). Default 1.</summary>
    public double Guidance { get; init; } = 1;

    /// <summary>
    /// Apply <see cref="Guidance"/> only while the noise level — t/T for DDPM/DDIM, α for α-deblending — is within
    /// [low, high], the plain conditional prediction elsewhere (Kynkäänniemi et al. 2024). Null: at every step.
    /// </summary>
    public (double Low, double High)? GuidanceInterval { get; init; }

    /// <summary>The sampler this resolves to for <paramref name="config"/>'s model.</summary>
    public SamplerKind SamplerFor(DiffusionConfig config) =>
        Sampler ?? (config.Objective == DiffusionObjective.AlphaDeblending ? SamplerKind.AlphaDeblending : SamplerKind.Ddpm);

    /// <summary>The steps this resolves to for <paramref name="config"/>'s model.</summary>
    public int StepsFor(DiffusionConfig config) => Steps ?? (SamplerFor(config) == SamplerKind.AlphaDeblending ? 50 : config.Steps);

    /// <summary>Network evaluations per sample.</summary>
    public int EvaluationsFor(DiffusionConfig config) =>
        SamplerFor(config) == SamplerKind.AlphaDeblending ? AlphaDeblending.Evaluations(StepsFor(config), Heun) : StepsFor(config);

    /// <summary>
    /// Why these options cannot sample <paramref name="config"/>'s model, in words (null: they can): a sampler of the other
    /// kind of model, steps out of range, a negative η.
    /// </summary>
    public string? Problem(DiffusionConfig config)
    {
        SamplerKind sampler = SamplerFor(config);
        bool epsilon = config.Objective == DiffusionObjective.Epsilon;
        if (epsilon != (sampler != SamplerKind.AlphaDeblending))
            return $"the {Name(sampler)} sampler does not fit {config.KindName}; use {(epsilon ? "ddpm or ddim" : "iadb")}";
        int steps = StepsFor(config);
        if (steps < 1) return $"steps must be at least 1 (got {steps})";
        if (sampler != SamplerKind.AlphaDeblending && steps > config.Steps) return $"steps must be at most T = {config.Steps} (got {steps})";
        if (sampler == SamplerKind.Ddpm && steps != config.Steps) return $"DDPM walks all T = {config.Steps} steps (got {steps}); use ddim for fewer";
        if (!(Eta >= 0) || double.IsInfinity(Eta)) return $"eta must be a finite number ≥ 0 (got {Eta})";
        if (!(Guidance >= 0) || double.IsInfinity(Guidance)) return $"guidance must be a finite number ≥ 0 (got {Guidance})";
        if (GuidanceInterval is var (low, high) && !(low >= 0 && low <= high && high <= 1)) return $"the guidance interval must satisfy 0 ≤ low ≤ high ≤ 1 (got {low}, {high})";
        if (Labels is not null && config.UNet.Classes == 0) return "the model is unconditional: it cannot be asked for a digit";
        if (Labels is not null && Labels.Any(l => l < 0 || l >= config.UNet.Classes)) return $"labels must be in 0..{config.UNet.Classes - 1}";
        if (Eta > 0 && sampler != SamplerKind.Ddim) return "eta applies to the ddim sampler only";
        if (Heun && sampler != SamplerKind.AlphaDeblending) return "heun applies to the iadb sampler only";
        return null;
    }

    /// <summary>The sampler's name on the command line: ddpm, ddim or iadb.</summary>
    public static string Name(SamplerKind sampler) => sampler switch
    {
        SamplerKind.Ddpm => "ddpm",
        SamplerKind.Ddim => "ddim",
        _ => "iadb",
    };

    /// <summary>A short description, e.g. "DDIM 50 steps, η = 0" or "α-deblending 25 Heun steps".</summary>
    public string Describe(DiffusionConfig config) => SamplerFor(config) switch
    {
        SamplerKind.Ddpm => $"DDPM {StepsFor(config)} steps",
        SamplerKind.Ddim => $"DDIM {StepsFor(config)} steps, η = {Eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        _ => $"α-deblending {StepsFor(config)} {(Heun ? "Heun" : "Euler")} steps",
    };
}

/// <summary>The samplers of a latent diffusion model.</summary>
public enum SamplerKind
{
    /// <summary>Ancestral DDPM over all T steps (part 3).</summary>
    Ddpm,

    /// <summary>DDIM over S ≤ T steps, η ≥ 0.</summary>
    Ddim,

    /// <summary>Iterative α-deblending, Euler or Heun steps (the follow-up).</summary>
    AlphaDeblending,
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
/// Part 3's generation: latents sampled from the UNet (DDPM <see cref="Ddpm.Sample"/>, <see cref="Ddim.Sample"/> or
/// <see cref="AlphaDeblending.Sample"/>, as the options and the model's objective say), unscaled by
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
        if (options.Problem(config) is { } problem) throw new ArgumentException(problem);
        if (options.Labels is { } all && all.Count != count) throw new ArgumentException($"{all.Count} labels for {count} samples");
        SamplerKind sampler = options.SamplerFor(config);
        int steps = options.StepsFor(config);
        if (options.ClipX0 && sampler == SamplerKind.AlphaDeblending) throw new ArgumentException("x̂_0 clipping applies to ε-models only");
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
                            frame = Decode(vae, xt.narrow(0, 0, k), config).cpu().DetachFromDisposeScope();   // owned by the trajectory
                        trajectory.Add((step, frame));
                        options.OnFrame?.Invoke(step, frame);
                    }
                    options.Cancellation.ThrowIfCancellationRequested();
                }
                Tensor z;
                using (var sampling = NewDisposeScope())   // a cancelled run leaves its x_t here, freed on the way out
                {
                    z = sampler switch
                    {
                        SamplerKind.Ddpm => Ddpm.Sample(network, schedule, shape, generator, clip, Progress, every),
                        SamplerKind.Ddim => Ddim.Sample(network, schedule, shape, generator, steps, options.Eta, clip, Progress, every),
                        _ => AlphaDeblending.Sample(network, shape, generator, steps, options.Heun, config.AlphaScale, Progress, every),
                    };
                    z.MoveToOuterDisposeScope();
                }
                done += (long)n * steps;
                using (z)
                {
                    using var scope = NewDisposeScope();
                    Tensor unscaled = z.div(config.LatentScale);
                    latents.Add(unscaled.cpu().MoveToOuterDisposeScope());
                    images.Add(Decode(vae, z, config).cpu().MoveToOuterDisposeScope());
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

    /// <summary>Scaled latents → images in [0, 1].</summary>
    static Tensor Decode(Vae vae, Tensor scaled, DiffusionConfig config)
    {
        using var scope = NewDisposeScope();
        return vae.Decode(scaled.div(config.LatentScale)).clamp_(0.0, 1.0).MoveToOuterDisposeScope();
    }
}
