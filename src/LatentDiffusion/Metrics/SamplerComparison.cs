using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>A latent diffusion model to compare samplers on: its UNet, config, a name for the table and whether it holds EMA weights (false: raw, or a run without EMA).</summary>
public sealed record ComparedModel(string Name, UNet UNet, DiffusionConfig Config, bool Ema);

/// <summary>
/// One row of the sampler table: a model's weights (EMA or raw) sampled with one sampler and step count, N digits
/// decoded and scored with MNIST-FID against the training set (both feature kinds), the ratio to the Validation FID
/// (preact), precision, recall, density, coverage and the memorised fraction from the same features, and the wall time of generation
/// (sampling + decoding, not the metrics).
/// </summary>
public sealed record SamplerRow(string Model, string Sampler, int Steps, int Evaluations, bool Ema, int Count,
    double FidPreact, double FidFlatten, double RatioToValidation, double Seconds)
{
    /// <summary>Precision and recall (k = 3), density and coverage (k = 5) of the digits against the training images (preact features); null for a row too small for them.</summary>
    public ManifoldResult? Manifold { get; init; }

    /// <summary>The share of the digits nearer to a training image than the test digits' 1st percentile (<see cref="Memorisation"/>); null for a row too small for the metrics.</summary>
    public double? MemorisedFraction { get; init; }

    /// <summary>
    /// The rows of the single seeds this row averages (seeds S, S + 1, …), or empty for a row of one seed. When set, every
    /// number of this row (FIDs, ratio, metrics beyond FID, seconds) is the mean over them.
    /// </summary>
    public IReadOnlyList<SamplerRow> PerSeed { get; init; } = [];

    /// <summary>The number of sampling seeds the row's numbers average.</summary>
    public int Seeds => Math.Max(1, PerSeed.Count);

    /// <summary>The lowest and highest preact FID over the seeds (the row's own value for one seed).</summary>
    public (double Min, double Max) FidPreactRange => PerSeed.Count == 0 ? (FidPreact, FidPreact) : SeedMeans.Range(PerSeed.Select(r => r.FidPreact));

    /// <summary>e.g. "α-deblending · Heun 25 (49 NFE) · EMA".</summary>
    public string Label => $"{Model} · {Sampler} {Steps} ({Evaluations} NFE) · {(Ema ? "EMA" : "raw")}";
}

/// <summary>
/// FID against network evaluations for the samplers: DDPM over all T steps and DDIM (η = 0) on an
/// ε-model; α-deblending with Euler and Heun steps on an α-model; each with EMA and raw weights.
/// </summary>
public static class SamplerComparison
{
    /// <summary>The step counts of the full table: 10, 20, 50, 100, 250.</summary>
    public static IReadOnlyList<int> FullSteps { get; } = [10, 20, 50, 100, 250];

    /// <summary>
    /// The sampler settings for <paramref name="config"/>'s kind of model at <paramref name="steps"/>: an ε-model gets
    /// DDPM (all T) when <paramref name="includeDdpm"/>, then DDIM η = 0 at each S; an α-model gets Euler and Heun at each S.
    /// </summary>
    public static IReadOnlyList<SamplingOptions> Grid(DiffusionConfig config, IReadOnlyList<int> steps, bool includeDdpm, SamplingOptions template)
    {
        var grid = new List<SamplingOptions>();
        if (config.Objective == DiffusionObjective.Epsilon)
        {
            if (includeDdpm) grid.Add(template with { Sampler = Samplers.Ddpm, Steps = null });
            grid.AddRange(steps.Where(s => s <= config.Steps).Select(s => template with { Sampler = Samplers.Ddim, Steps = s, Eta = 0 }));
        }
        else
        {
            grid.AddRange(steps.Select(s => template with { Sampler = Samplers.AlphaEuler, Steps = s }));
            grid.AddRange(steps.Select(s => template with { Sampler = Samplers.AlphaHeun, Steps = s }));
        }
        return grid;
    }

    /// <summary>Samples <paramref name="count"/> digits of <paramref name="model"/> with <paramref name="options"/> (seed <paramref name="seed"/>), times it and scores it.</summary>
    public static SamplerRow Measure(ComparedModel model, Vae vae, SamplingOptions options, int count, long seed, FidScorer scorer,
        Action<long, long>? progress = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using LatentSamples samples = LatentDiffusionSampler.Generate(model.UNet, model.Config, vae, count, seed, options, progress);
        double seconds = watch.Elapsed.TotalSeconds;
        return Score(model, options, samples.Images, seconds, scorer);
    }

    /// <summary>
    /// The mean of one setting's rows at several sampling seeds: every number averaged, the single-seed rows kept in
    /// <see cref="SamplerRow.PerSeed"/> for the spread. The metrics beyond FID are averaged only when every seed has them.
    /// </summary>
    public static SamplerRow Mean(IReadOnlyList<SamplerRow> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("no rows to average", nameof(seeds));
        if (seeds.Count == 1) return seeds[0];
        SamplerRow first = seeds[0];
        if (seeds.Any(r => r.Label != first.Label || r.Count != first.Count)) throw new ArgumentException("the rows to average are of different settings", nameof(seeds));
        return first with
        {
            FidPreact = seeds.Average(r => r.FidPreact), FidFlatten = seeds.Average(r => r.FidFlatten), RatioToValidation = seeds.Average(r => r.RatioToValidation),
            Seconds = seeds.Average(r => r.Seconds), Manifold = SeedMeans.Manifold(seeds.Select(r => r.Manifold).ToList()),
            MemorisedFraction = SeedMeans.Mean(seeds.Select(r => r.MemorisedFraction)),
            PerSeed = seeds,
        };
    }

    /// <summary>The row of already generated <paramref name="images"/> (e.g. the main table's DDPM samples), generated in <paramref name="seconds"/>.</summary>
    public static SamplerRow Score(ComparedModel model, SamplingOptions options, Tensor images, double seconds, FidScorer scorer)
    {
        string sampler = options.SamplerFor(model.Config).RowName(options);
        FidScore score = scorer.Score(images, $"{model.Name} {sampler}", quality: true);
        return new SamplerRow(model.Name, sampler, options.StepsFor(model.Config), options.EvaluationsFor(model.Config), model.Ema,
            (int)images.shape[0], score.Preact, score.Flatten, score.Preact / scorer.Validation, seconds) { Manifold = score.Manifold, MemorisedFraction = score.MemorisedFraction };
    }
}
