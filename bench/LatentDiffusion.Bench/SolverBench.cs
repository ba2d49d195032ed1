using System.Globalization;
using System.Text;
using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;

namespace LatentDiffusion.Bench;

/// <summary>One measured row: model, sampler (with its spacing), evaluations, FID ratio, seconds, counted FLOPs and the efficiency against the measured peak.</summary>
public sealed record SolverRow(string Model, string Sampler, string Spacing, int Steps, int Evaluations, double Fid, double RatioToValidation,
    double Seconds, double TeraFlops, double Efficiency)
{
    /// <summary>Every timed run's seconds (the scored one first), when the row was timed more than once; <see cref="Seconds"/> is then their median.</summary>
    public IReadOnlyList<double>? Runs { get; init; }
}

/// <summary>
/// The few-step solvers side by side: for each model, every sampler that fits it under every <see cref="StepSpacing"/>
/// at the asked numbers of network evaluations; 10,000 digits each (same seed), MNIST-FID against the training set,
/// the wall time of sampling + decoding, and FLOP efficiency = counted FLOPs / (seconds × measured matmul peak).
/// FLOPs per digit = evaluations × the UNet's forward FLOPs (× 2 with guidance's two halves) + the decoder's, as
/// counted on the PyTorch twins (python/count_flops.py). With <c>repeat</c> &gt; 1 each row is generated that many times
/// (scored once: the seed fixes the digits) and its seconds are the median, every run kept in <see cref="SolverRow.Runs"/>.
/// </summary>
public static class SolverBench
{
    public static int Run(IReadOnlyList<string> models, IReadOnlyList<int> evaluations, int count, long seed, string vaePath, string classifierPath,
        IReadOnlyDictionary<string, double> unetMflops, double decoderMflops, string? jsonPath, Action<string> log, ISet<string>? only = null, int repeat = 1)
    {
        IReadOnlyList<MatmulRate> rates = MatmulPeak.Measure([1024, 2048, 4096], log: log);
        double peak = rates.Max(r => r.BestGflops) * 1e9;
        using Classifier classifier = ModelFile.LoadClassifier(classifierPath);
        MnistData mnist = MnistDataset.Load(MnistDataset.DefaultDirectory);
        var scorer = new FidScorer(classifier, mnist);
        log($"Validation FID {scorer.Validation:F4}");
        using Vae vae = ModelFile.LoadVae(vaePath);
        var rows = new List<SolverRow>();
        foreach (string path in models)
        {
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(path);
            using (unet)
            {
                string widths = string.Join(",", config.UNet.Widths);
                double unetFlops = (unetMflops.TryGetValue(widths, out double m) ? m : throw new ArgumentException($"no FLOP count for UNet ({widths})")) * 1e6;
                var model = new ComparedModel(Path.GetFileNameWithoutExtension(path), unet, config, Ema: true);
                foreach ((ISampler sampler, int steps) in Grid(config, evaluations))
                {
                    if (only is not null && !only.Contains($"{sampler.Name}:{SpacingOf(sampler)}".ToLowerInvariant())) continue;
                    var options = new SamplingOptions { Sampler = sampler, Steps = steps };
                    SamplerRow row = SamplerComparison.Measure(model, vae, options, count, seed, scorer);
                    var runs = new List<double> { row.Seconds };
                    for (int r = 1; r < repeat; r++)   // the same digits again, timed only (the seed fixes them)
                    {
                        var watch = System.Diagnostics.Stopwatch.StartNew();
                        using (LatentDiffusionSampler.Generate(model.UNet, model.Config, vae, count, seed, options)) { }
                        runs.Add(watch.Elapsed.TotalSeconds);
                    }
                    double seconds = Statistics.Median(runs);
                    double flops = count * (row.Evaluations * unetFlops + decoderMflops * 1e6);
                    string spacing = SpacingOf(sampler);
                    var result = new SolverRow(model.Name, sampler.Title, spacing, row.Steps, row.Evaluations, row.FidPreact, row.RatioToValidation,
                        seconds, flops / 1e12, flops / (seconds * peak)) { Runs = repeat > 1 ? runs : null };
                    log(string.Create(CultureInfo.InvariantCulture,
                        $"{result.Model} · {result.Sampler} ({result.Spacing}) {result.Steps} steps, {result.Evaluations} NFE: {result.RatioToValidation:F2}x Validation, {result.Seconds:F2} s{(repeat > 1 ? $" (median of {repeat}: {string.Join(", ", runs.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))})" : "")}, {result.TeraFlops:F2} TFLOP, {100 * result.Efficiency:F0} % of peak"));
                    rows.Add(result);
                }
            }
        }
        var report = new
        {
            runtime = new { cpu = Environment.ProcessorCount, threads = TorchSharp.torch.get_num_threads() },
            matmul = rates, peak_gflops = peak / 1e9, count, seed, validation_fid = scorer.Validation, rows,
        };
        string text = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, text + Environment.NewLine);
        Console.WriteLine(Table(rows, peak));
        return 0;
    }

    /// <summary>
    /// For an ε-model: DDIM, and DPM-Solver++(2M) under each spacing; for an α-model: Euler, Heun and DPM-Solver++(2M)
    /// under each; at ≈ each NFE budget. A distilled student: its own sampler at each budget it supports.
    /// </summary>
    static IEnumerable<(ISampler, int)> Grid(DiffusionConfig config, IReadOnlyList<int> evaluations)
    {
        StepSpacing[] spacings = [StepSpacing.Uniform, StepSpacing.Karras, StepSpacing.LogSnr];
        foreach (int nfe in evaluations)
        {
            if (config.Student is { } student)
            {
                if (student.Supports(nfe)) yield return (Samplers.Student, nfe);
            }
            else if (config.Objective == DiffusionObjective.Epsilon)
            {
                yield return (Samplers.Ddim, nfe);
                foreach (StepSpacing s in spacings) yield return (new DpmSolverPlusPlus2MSampler(s), nfe);
            }
            else
            {
                foreach (StepSpacing s in spacings) yield return (new AlphaEulerSampler(s), nfe);
                if (nfe >= 3) foreach (StepSpacing s in spacings) yield return (new AlphaHeunSampler(s), (nfe + 1) / 2);
                foreach (StepSpacing s in spacings) yield return (new AlphaDpmSolverSampler(s), nfe);
            }
        }
    }

    static string SpacingOf(ISampler sampler) => sampler switch
    {
        AlphaEulerSampler s => s.Spacing.ToString(), AlphaHeunSampler s => s.Spacing.ToString(),
        AlphaDpmSolverSampler s => s.Spacing.ToString(), DpmSolverPlusPlus2MSampler s => s.Spacing.ToString(), _ => "Uniform",
    };

    static string Table(IReadOnlyList<SolverRow> rows, double peak)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| model | sampler | spacing | steps | NFE | FID / Validation | seconds | TFLOP | % of peak ({peak / 1e9:F0} GFLOP/s) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (SolverRow r in rows)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model} | {r.Sampler} | {r.Spacing} | {r.Steps} | {r.Evaluations} | {r.RatioToValidation:F2}x | {r.Seconds:F1} | {r.TeraFlops:F2} | {100 * r.Efficiency:F0} % |");
        return text.ToString();
    }
}
