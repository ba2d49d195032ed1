using System.Diagnostics;
using System.Globalization;
using LatentDiffusion.Reports;
using LatentDiffusion.Sampling;
using LatentDiffusion.Metrics;
using LatentDiffusion.Native;

namespace LatentDiffusion.Server;

/// <summary>One denoising frame as the page shows it: the grid of the digits decoded at <see cref="Step"/> of <see cref="Steps"/>, as PNG.</summary>
public sealed record GenerationFrame(int Step, int Steps, byte[] Png);

/// <summary>What the classifier read in image <see cref="Index"/>: its label (a class index) and probability; <see cref="Requested"/> is the class asked for (null: unconditional).</summary>
public sealed record DigitResult(int Index, int? Requested, int Label, double Confidence);

/// <summary>A finished generation: the job, each digit's reading, the final grid (captioned with the readings), the seconds it took and the libtorch threads it ran on.</summary>
public sealed record GenerationResult(GenerationJob Job, IReadOnlyList<DigitResult> Digits, byte[] GridPng, int Columns, double Seconds, int Threads);

/// <summary>
/// Runs a <see cref="GenerationJob"/> with the library's calls and nothing of its own: <see cref="LatentDiffusionSampler.Generate"/>
/// (its trajectory frames, every k-th step so that at most <see cref="ServerOptions.MaxFrames"/> are made, handed on as
/// PNG grids while it samples; cancellation checked between steps), <see cref="DigitReading.Read"/> and <see cref="DigitGrid.Render"/>.
/// </summary>
public sealed class GenerationRunner(ServerOptions options)
{
    /// <summary>libtorch's thread count when the server was made: what a generation larger than <see cref="ServerOptions.OneThreadUpTo"/> runs on.</summary>
    readonly int threads = TorchSharp.torch.get_num_threads();

    /// <summary>Samples, reads and draws the digits of <paramref name="job"/>; blocks the calling thread (the API runs it on its own).</summary>
    public GenerationResult Run(GenerationJob job, Action<GenerationFrame>? onFrame, CancellationToken cancellation)
    {
        var config = job.Model.Config ?? throw new InvalidOperationException($"model '{job.Model.Id}' is not loaded");
        var unet = job.Model.Model ?? throw new InvalidOperationException($"model '{job.Model.Id}' is not loaded");
        ModelFolder folder = job.Model.Folder ?? throw new InvalidOperationException($"model '{job.Model.Id}' belongs to no models folder");
        int steps = job.Options.StepsFor(config);
        int columns = DigitGrid.DefaultColumns(job.Count);
        string sampler = job.Options.SamplerFor(config).Name;
        var sampling = job.Options with
        {
            Cancellation = cancellation,
            TrajectoryEvery = onFrame is null ? 0 : (steps + options.MaxFrames - 1) / options.MaxFrames,
            TrajectoryCount = job.Count,
            OnFrame = onFrame is null ? null : (step, images) => onFrame(new GenerationFrame(step, steps, DigitGrid.Render(images, columns, captionBand: true, fast: true, title: $"{sampler}: step {step} of {steps}").Png)),
        };
        var watch = Stopwatch.StartNew();
        int team = job.Count <= options.OneThreadUpTo ? 1 : threads;
        using var use = TorchThreads.Use(team);   // this generation thread's own count, set for every job
        using LatentSamples samples = LatentDiffusionSampler.Generate(unet, config, folder.Vae, job.Count, job.Seed, sampling);
        IReadOnlyList<DigitReading> readings = DigitReading.Read(folder.Classifier, samples.Images);
        string[] captions = readings.Select(r => string.Create(CultureInfo.InvariantCulture, $"{Caption(job.Model.ClassName(r.Label))}  {100 * r.Confidence:F0}%")).ToArray();
        byte[] grid = DigitGrid.Render(samples.Images, columns, captions, fast: true, title: $"{sampler}: {steps} steps, seed {job.Seed}").Png;
        var digits = readings.Select((r, i) => new DigitResult(i, job.Options.Labels?[i], r.Label, r.Confidence)).ToList();
        return new GenerationResult(job, digits, grid, columns, watch.Elapsed.TotalSeconds, team);
    }

    /// <summary>A class name short enough to sit under its image ("ankle-boot" → "ankle-bo…").</summary>
    static string Caption(string name) => name.Length <= MaxCaption ? name : name[..(MaxCaption - 1)] + "…";

    const int MaxCaption = 9;
}
