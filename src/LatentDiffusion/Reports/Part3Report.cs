using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// What the part-3 report describes: the data, the diffusion model's settings and the digits sampled from it (images in
/// [0, 1], the first of them also as denoising trajectories); the model files, history, FID rows and census if known.
/// </summary>
public sealed record Part3ReportInputs(MnistData Data, DiffusionConfig Config, LatentSamples Samples)
{
    /// <summary>The diffusion model's weights file, named and hashed (SHA-256) on the page; null when it did not come from a file.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The VAE that decoded the samples, named and hashed on the page (and checked against <see cref="DiffusionConfig.VaeSha256"/>).</summary>
    public string? VaePath { get; init; }

    /// <summary>The diffusion model's logged epochs; null or empty skips loss.png with a note.</summary>
    public IReadOnlyList<EpochLog>? History { get; init; }

    /// <summary>The FID table (<see cref="GeneratorFid"/>), shown in the post's row order; null or empty says it was not computed.</summary>
    public IReadOnlyList<GeneratorFidRow>? FidRows { get; init; }

    /// <summary>The classifier's census of the generated digits; null skips census.png with a note.</summary>
    public DigitCensus? Census { get; init; }

    /// <summary>Wall-clock seconds sampling took, for <see cref="SampleCount"/> digits.</summary>
    public double? SampleSeconds { get; init; }

    /// <summary>Digits generated (and scored by the census and FID); null: the number of <see cref="LatentSamples.Images"/>.</summary>
    public int? SampleCount { get; init; }

    /// <summary>Whether sampling clamped x̂_0 to the training latents' range (<see cref="SamplingOptions.ClipX0"/>).</summary>
    public bool ClipX0 { get; init; }

    /// <summary>The sampling seed.</summary>
    public long Seed { get; init; }

    /// <summary>The UNet in words, e.g. "UNet (64, 128), 1234567 parameters"; null: its channel widths from <see cref="DiffusionConfig.UNet"/>.</summary>
    public string? UNetDescription { get; init; }

    /// <summary>The sampler table (<see cref="SamplerComparison"/>); null or empty skips samplers.png and the table.</summary>
    public IReadOnlyList<SamplerRow>? SamplerRows { get; init; }

    /// <summary>Digits of the α-deblending model (N, 1, H, W), for its own grid; null skips alpha_deblending_samples.png.</summary>
    public Tensor? AlphaDeblendingSamples { get; init; }

    /// <summary>How <see cref="AlphaDeblendingSamples"/> were made, e.g. "α-deblending 50 Euler steps, EMA weights".</summary>
    public string? AlphaDeblendingDescription { get; init; }

    /// <summary>The generated digits' full memorisation check (<see cref="FidScorer.Closest"/>); null skips memorisation.png and its section.</summary>
    public ClosestPairs? Memorisation { get; init; }
}

/// <summary>What <see cref="Part3Report.Write"/> wrote.</summary>
/// <param name="NoisedIndices">Test indices of the digits in the forward-process figure, one per row.</param>
/// <param name="Notes">Things the report skipped or could not check, also listed on the page.</param>
public sealed record Part3ReportResult(string Directory, IReadOnlyList<ReportFigure> Figures, IReadOnlyList<int> NoisedIndices, IReadOnlyList<string> Notes)
{
    public string? ModelSha256 { get; init; }

    public string? VaeSha256 { get; init; }

    /// <summary>How that VAE relates to the one the model recorded (a tuned decoder shares its latents).</summary>
    public IO.VaeRelation VaeRelation { get; init; }

    public string IndexPath => Path.Combine(Directory, Page.IndexName);
    public string MarkdownPath => Path.Combine(Directory, Page.MarkdownName);
}

/// <summary>
/// Reproduces the part-3 post as a report directory: test digits noised by the forward process in pixel space, ᾱ_t of
/// the linear and cosine schedules, the loss curves, a 6 × 12 grid of generated digits, and what the post lacks — the
/// denoising trajectories and the classifier's label histogram of the samples; then the FID table and index.html /
/// report.md putting them beside the post's statements. Sampling is the caller's (<see cref="LatentDiffusionSampler"/>);
/// every file goes through <see cref="AtomicFile"/>.
/// </summary>
public static class Part3Report
{
    /// <summary>Writes every figure, index.html and report.md into <paramref name="outDirectory"/>.</summary>
    public static Part3ReportResult Write(Part3ReportInputs inputs, string outDirectory, Part3ReportConfig? config = null, IProgress<string>? progress = null)
    {
        config ??= new Part3ReportConfig();
        config.Validate();
        DiffusionConfig model = inputs.Config;
        model.Validate();
        foreach (int t in config.NoisingTimes) ArgumentOutOfRangeException.ThrowIfGreaterThan(t, model.Steps, nameof(config.NoisingTimes));
        Tensor samples = inputs.Samples.Images;
        if (samples.dim() != 4 || samples.shape[0] == 0) throw new ArgumentException("the samples hold no (N, 1, H, W) images", nameof(inputs));
        Directory.CreateDirectory(outDirectory);
        var figures = new FigureWriter(outDirectory);
        var notes = new List<string>();
        int scale = config.DigitScale;
        using NoiseSchedule linear = model.CreateSchedule();
        using NoiseSchedule cosine = NoiseSchedule.Cosine(model.Steps);

        progress?.Report("forward process");
        MnistSplit test = inputs.Data.Test;
        var noised = new List<(int Digit, int Index)>();
        foreach (int digit in config.NoisedDigits)
        {
            int index = Array.IndexOf(test.Labels, (byte)digit);
            if (index < 0) notes.Add($"The test set has no {digit}, so it is not in forward_noising.png.");
            else noised.Add((digit, index));
        }
        if (noised.Count > 0)
        {
            using Tensor x = test.ToInputs();                                                   // (N, 1, 32, 32)
            using Tensor x0 = x.index_select(0, tensor(noised.Select(n => (long)n.Index).ToArray()));
            using Tensor grid = ForwardProcess(linear, x0, config.NoisingTimes, config.NoiseSeed);
            figures.Save("forward_noising.png",
                Part3Figures.ForwardNoising(grid, noised.Select(n => n.Digit.ToString(CultureInfo.InvariantCulture)).ToArray(), config.NoisingTimes,
                    $"x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, {linear.Name} schedule, T = {linear.Steps}; a fresh ε per cell (seed {config.NoiseSeed}); clipped to [0, 1]", scale),
                "Forward process", Part3Page.ForwardNoisingCaption(noised.Select(n => n.Index).ToArray(), config.NoisingTimes, linear, config.NoiseSeed),
                isImageGrid: true);
        }

        progress?.Report("noise schedules");
        figures.Save("alpha_bar_schedule.png", Part3Figures.AlphaBar(
            [($"linear, β from {Part3Page.Number(model.BetaStart)} to {Part3Page.Number(model.BetaEnd)}", linear), ("cosine, s = 0.008 (the post's variant)", cosine)],
            config.PlotWidth, config.PlotHeight),
            "Noise schedules", Part3Page.ScheduleCaption(model, linear, cosine));

        if (inputs.History is { Count: > 0 } history)
            figures.Save("loss.png", LossCurve.Render(history, "Latent diffusion loss per logged epoch", "MSE between ε and ε_θ(x_t, t)",
                "validation (the test latents)", config.PlotWidth, config.PlotHeight), "Diffusion loss", Part3Page.LossCaption(history));
        else
            notes.Add("No training history was given, so loss.png was not drawn.");

        progress?.Report("generated digits");
        int shown = (int)Math.Min(samples.shape[0], config.SampleRows * config.SampleColumns);
        int count = inputs.SampleCount ?? (int)samples.shape[0];
        using (Tensor first = samples.narrow(0, 0, shown))
            figures.Save("samples.png",
                Part3Figures.Samples(first, config.SampleColumns, $"the first {shown} of {count} samples (seed {inputs.Seed}), {model.Steps} ancestral steps each", scale),
                "Generated digits", Part3Page.SamplesCaption(shown, count, inputs.Seed), isImageGrid: true);

        progress?.Report("denoising trajectory");
        var trajectory = inputs.Samples.Trajectory;
        if (trajectory.Count > 0)
        {
            var columns = Spread(trajectory, config.TrajectoryColumns);
            int rows = (int)Math.Min(config.TrajectoryRows, columns.Min(e => e.Images.shape[0]));
            figures.Save("trajectory.png",
                Part3Figures.Trajectory(columns, rows, model.Steps, $"the first {rows} samples; {columns.Count} of the {trajectory.Count} kept steps", scale),
                "Denoising trajectory", Part3Page.TrajectoryCaption(rows, columns.Select(e => e.Step).ToArray(), model.Steps), isImageGrid: true);
        }
        else
            notes.Add("The samples kept no denoising trajectory (SamplingOptions.TrajectoryEvery = 0), so trajectory.png was not drawn.");

        if (inputs.SamplerRows is { Count: > 0 } samplerRows)
        {
            progress?.Report("sampler comparison");
            figures.Save("samplers.png", Part3Figures.SamplerFid(samplerRows, config.PlotWidth, config.PlotHeight),
                "Samplers: quality against network evaluations", Part3Page.SamplersCaption(samplerRows));
        }
        if (inputs.AlphaDeblendingSamples is { } alphaSamples && alphaSamples.shape[0] > 0)
        {
            int shownAlpha = (int)Math.Min(alphaSamples.shape[0], config.SampleRows * config.SampleColumns);
            using Tensor firstAlpha = alphaSamples.narrow(0, 0, shownAlpha);
            figures.Save("alpha_deblending_samples.png",
                DigitFigures.Tiles(firstAlpha, config.SampleColumns, "Generated digits: iterative α-deblending in the VAE's latent space, decoded",
                    $"the first {shownAlpha} samples (seed {inputs.Seed}), {inputs.AlphaDeblendingDescription ?? "α-deblending"}", scale),
                "α-deblending digits", $"The first {shownAlpha} digits of the α-deblending model ({inputs.AlphaDeblendingDescription ?? "α-deblending"}), seed {inputs.Seed}, " +
                "decoded by the same VAE. The follow-up post's figure mixes 36 generated digits with 36 test digits; this one shows generated digits only.",
                isImageGrid: true);
        }

        if (inputs.Census is { } census)
            figures.Save("census.png", Part3Figures.Census(census, census.Counts.Sum(), config.PlotWidth, config.PlotHeight),
                "Classifier census", Part3Page.CensusCaption(census));
        else
            notes.Add("No classifier census was given, so census.png was not drawn.");

        if (inputs.Memorisation is { } closest && closest.Result.Closest.Count > 0 && closest.Generated.HasPixels && closest.Training.HasPixels)
        {
            progress?.Report("closest pairs");
            figures.Save("memorisation.png", MemorisationFigure.Render(closest.Result, closest.Generated, closest.Training,
                    $"The {closest.Result.Closest.Count} {closest.Row} digits nearest to a training image"),
                "Closest pairs", Part3Page.MemorisationCaption(closest), isImageGrid: true);
        }

        if (inputs.FidRows is not { Count: > 0 })
            notes.Add("No FID table was given (ldm reproduce part3 computes it).");

        string? vaeSha = inputs.VaePath is { } vaeFile ? ModelWeights.Sha256(vaeFile) : null;
        VaeRelation relation = inputs.VaePath is { } vaeOf ? VaeLineage.Of(model.VaeSha256, vaeOf) : VaeRelation.Unrecorded;
        if (relation == VaeRelation.Other && model.VaeSha256 is { } recorded)
            notes.Add($"The VAE {ReportPaths.Display(inputs.VaePath!)} (SHA-256 {vaeSha}) is not the one the model was trained on ({recorded}).");
        var result = new Part3ReportResult(outDirectory, figures.Figures, noised.Select(n => n.Index).ToArray(), notes)
        {
            ModelSha256 = inputs.ModelPath is { } modelFile ? ModelWeights.Sha256(modelFile) : null,
            VaeSha256 = vaeSha,
            VaeRelation = relation,
        };
        progress?.Report("index.html and report.md");
        Part3Page.Write(inputs, result);
        return result;
    }

    /// <summary>
    /// q(x_t | x₀) of each image of <paramref name="x0"/> (D, 1, H, W) at each of <paramref name="times"/>, digit-major:
    /// (D·M, 1, H, W), an independent ε ~ N(0, I) per cell from <paramref name="seed"/>; t = 0 is x₀ itself (eq. 4).
    /// </summary>
    public static Tensor ForwardProcess(NoiseSchedule schedule, Tensor x0, IReadOnlyList<int> times, long seed)
    {
        foreach (int time in times)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(time, nameof(times));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(time, schedule.Steps, nameof(times));
        }
        using var scope = NewDisposeScope();
        using var generator = new Generator(unchecked((ulong)seed));
        long d = x0.shape[0], m = times.Count;
        long[] cell = [d * m, x0.shape[1], x0.shape[2], x0.shape[3]];
        Tensor repeated = x0.unsqueeze(1).expand(d, m, cell[1], cell[2], cell[3]).reshape(cell);       // (D·M, 1, H, W), digit-major
        int[] perCell = Enumerable.Repeat(times, (int)d).SelectMany(ts => ts).ToArray();
        Tensor t = tensor(perCell.Select(v => (long)Math.Max(v, 1)).ToArray());                      // QSample needs t ≥ 1; t = 0 is replaced below
        Tensor noise = randn(cell, dtype: repeated.dtype, generator: generator);
        Tensor xt = Ddpm.QSample(schedule, repeated, t, noise);
        Tensor isOriginal = tensor(perCell.Select(v => v == 0).ToArray()).reshape(-1, 1, 1, 1);
        return where(isOriginal, repeated, xt).MoveToOuterDisposeScope();
    }

    /// <summary>At most <paramref name="max"/> entries, evenly spaced, always the first and the last.</summary>
    static IReadOnlyList<(int Step, Tensor Images)> Spread(IReadOnlyList<(int Step, Tensor Images)> trajectory, int max)
    {
        if (trajectory.Count <= max) return trajectory;
        return Enumerable.Range(0, max).Select(i => (int)Math.Round(i * (trajectory.Count - 1) / (double)(max - 1))).Distinct().Select(i => trajectory[i]).ToList();
    }
}
