using System.Globalization;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>The sampler table's extent: quick (a few rows at ≤ 50 evaluations, EMA weights) or full (10-250 steps, EMA and raw weights).</summary>
public enum SamplerTableSize
{
    Quick,
    Full,
}

/// <summary>
/// What the sampler table compares: the ε-model (with its DDPM digits already made for the series' table: the images and
/// seconds of seeds Seed, Seed + 1, …, in order), the α-deblending model and the wide α-deblending model (null paths:
/// absent), all decoded by one VAE.
/// </summary>
public sealed record SamplerTableInputs(UNet EpsilonModel, DiffusionConfig EpsilonConfig, string EpsilonPath, Vae Vae, string VaePath,
    IReadOnlyList<(Tensor Images, double Seconds)> Ddpm)
{
    /// <summary>The α-deblending model's file (when absent, a note says its rows are missing).</summary>
    public string? AlphaPath { get; init; }

    /// <summary>The wide α-deblending model's file, and whether the user named it (a default that does not fit the VAE is skipped with a note; a named one is an error).</summary>
    public (string Path, bool Given)? Wide { get; init; }

    /// <summary>The distilled student's file and whether the user named it (as <see cref="Wide"/>); its rows: 1, 2 and 4 steps.</summary>
    public (string Path, bool Given)? Student { get; init; }

    /// <summary>Clamp x̂_0 for the ε-model's rows.</summary>
    public bool ClipX0 { get; init; }

    public int Count { get; init; } = 10_000;

    public long Seed { get; init; }

    /// <summary>Sampling seeds per row: each row is sampled at seeds Seed, Seed + 1, … and reports their mean and range (1: one seed, the quick table's time).</summary>
    public int Seeds { get; init; } = 1;
}

/// <summary>The rows, the α-deblending model's first digits for the report's grid (null without that model) and how they were sampled, and the notes.</summary>
public sealed record SamplerTableResult(IReadOnlyList<SamplerRow> Rows, Tensor? AlphaImages, string? AlphaDescription, IReadOnlyList<string> Notes) : IDisposable
{
    public void Dispose() => AlphaImages?.Dispose();
}

/// <summary>
/// <c>ldm reproduce part3</c>'s sampler table: FID against network evaluations. The ε-model's DDPM row from the series'
/// table's digits, then DDIM η = 0; the α-deblending model's Euler and Heun; the wide model's best rows; the distilled
/// student's 1, 2 and 4 steps. Quick: DDIM 50, Euler 50, Heun 25, the wide model's Heun 10 and DPM-Solver++(2M) 10, EMA
/// weights; full: 10-250 steps (the wide model 5-50), EMA and raw.
/// </summary>
public static class SamplerTable
{
    public static SamplerTableResult Run(SamplerTableInputs inputs, SamplerTableSize size, FidScorer scorer, IExperimentObserver? observer = null)
    {
        observer ??= SilentObserver.Instance;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs.Seeds);
        bool full = size == SamplerTableSize.Full;
        var rows = new List<SamplerRow>();
        var notes = new List<string>();
        int n = inputs.Count;
        var template = new SamplingOptions { ClipX0 = inputs.ClipX0 };
        IReadOnlyList<int> steps = full ? SamplerComparison.FullSteps : [50];

        void Run(ComparedModel model, IEnumerable<SamplingOptions> grid)
        {
            foreach (SamplingOptions options in grid)
            {
                string how = options.Describe(model.Config) + (model.Ema ? "" : ", raw weights");
                var seeds = new List<SamplerRow>();
                for (int k = 0; k < inputs.Seeds; k++)
                {
                    long seed = inputs.Seed + k;
                    string which = inputs.Seeds > 1 ? $", seed {seed}" : "";
                    seeds.Add(observer.Step($"{model.Name}: {n} digits, {how}{which}", p => SamplerComparison.Measure(model, inputs.Vae, options, n, seed, scorer, p)));
                }
                SamplerRow row = SamplerComparison.Mean(seeds);
                observer.Result(Summary(row));
                rows.Add(row);
            }
        }

        DiffusionConfig config = inputs.EpsilonConfig;
        var ddpm = new ComparedModel("DDPM", inputs.EpsilonModel, config, Ema: IsEma(inputs.EpsilonPath));
        // The DDPM row's seeds are the series' table's digits; seeds beyond them are sampled here.
        SamplingOptions ddpmOptions = template with { Sampler = Samplers.Ddpm };
        var ddpmSeeds = inputs.Ddpm.Take(inputs.Seeds).Select(d => SamplerComparison.Score(ddpm, ddpmOptions, d.Images, d.Seconds, scorer)).ToList();
        for (int k = ddpmSeeds.Count; k < inputs.Seeds; k++)
        {
            long seed = inputs.Seed + k;
            ddpmSeeds.Add(observer.Step($"DDPM: {n} digits, {ddpmOptions.Describe(config)}, seed {seed}", p => SamplerComparison.Measure(ddpm, inputs.Vae, ddpmOptions, n, seed, scorer, p)));
        }
        rows.Add(SamplerComparison.Mean(ddpmSeeds));
        Run(ddpm, SamplerComparison.Grid(config, steps, includeDdpm: false, template));
        if (full) RunRaw("DDPM", inputs.EpsilonPath, config, raw => Run(raw, SamplerComparison.Grid(config, steps, includeDdpm: true, template)), notes);

        // The wide model's best rows: quick = Heun 10 (19 evaluations); full = Euler 10/20/50 and Heun 5/10/25, EMA and raw.
        void WideRows(string path, bool given, SamplingOptions alphaTemplate)
        {
            if (!given && !File.Exists(path))
            {
                notes.Add($"No wide α-deblending model at {path}, so the table has no rows for it.");
                return;
            }
            (UNet wideNet, DiffusionConfig wideConfig) = ModelFile.LoadDiffusion(path);
            using (wideNet)
            {
                if (!given && (wideConfig.UNet.LatentChannels != config.UNet.LatentChannels || !VaeLineage.SharesLatents(wideConfig.VaeSha256, inputs.VaePath)))
                {
                    notes.Add($"The default wide α-deblending model {path} was trained on another VAE than {inputs.VaePath}, so the table has no rows for it.");
                    return;
                }
                RequireAlphaModel(wideConfig, path, inputs);
                string name = $"α-deblending ({string.Join(", ", wideConfig.UNet.Widths)})";
                SamplingOptions Euler(int k) => alphaTemplate with { Sampler = Samplers.AlphaEuler, Steps = k };
                SamplingOptions Heun(int k) => alphaTemplate with { Sampler = Samplers.AlphaHeun, Steps = k };
                SamplingOptions Solver(int k) => alphaTemplate with { Sampler = Samplers.AlphaDpmSolver, Steps = k };
                SamplingOptions[] grid = full ? [Euler(10), Euler(20), Euler(50), Heun(5), Heun(10), Heun(25), Solver(5), Solver(10), Solver(20)] : [Heun(10), Solver(10)];
                Run(new ComparedModel(name, wideNet, wideConfig, Ema: IsEma(path)), grid);
                if (full) RunRaw(name, path, wideConfig, raw => Run(raw, grid), notes);
            }
        }

        // The distilled student: 1, 2 and 4 steps (whatever its grid allows of them).
        void StudentRows(string path, bool given)
        {
            if (!given && !File.Exists(path))
            {
                notes.Add($"No distilled student at {path}, so the table has no rows for it (ldm diffusion distill makes one).");
                return;
            }
            (UNet studentNet, DiffusionConfig studentConfig) = ModelFile.LoadDiffusion(path);
            using (studentNet)
            {
                if (!given && !VaeLineage.SharesLatents(studentConfig.VaeSha256, inputs.VaePath))
                {
                    notes.Add($"The default student {path} was trained on another VAE's latents than {inputs.VaePath}, so the table has no rows for it.");
                    return;
                }
                RequireAlphaModel(studentConfig, path, inputs);
                if (studentConfig.Student is not { } student) throw new DataFormatException(path, $"is {studentConfig.KindName}, not a distilled student");
                Run(new ComparedModel("student", studentNet, studentConfig, Ema: IsEma(path)),
                    new[] { 1, 2, 4 }.Where(student.Supports).Select(k => new SamplingOptions { Sampler = Samplers.Student, Steps = k }));
            }
        }

        if (inputs.AlphaPath is not { } alphaPath || !File.Exists(alphaPath))
        {
            notes.Add($"No α-deblending model at {inputs.AlphaPath}, so the table has no α-deblending rows (ldm diffusion train --objective iadb trains one).");
            if (inputs.Wide is { } w) WideRows(w.Path, w.Given, new SamplingOptions());
            if (inputs.Student is { } st) StudentRows(st.Path, st.Given);
            return new SamplerTableResult(rows, null, null, notes);
        }
        (UNet alphaNet, DiffusionConfig alphaConfig) = ModelFile.LoadDiffusion(alphaPath);
        using (alphaNet)
        {
            RequireAlphaModel(alphaConfig, alphaPath, inputs);
            var alpha = new ComparedModel("α-deblending", alphaNet, alphaConfig, Ema: IsEma(alphaPath));
            var alphaTemplate = new SamplingOptions();
            IEnumerable<SamplingOptions> grid = full
                ? SamplerComparison.Grid(alphaConfig, steps, includeDdpm: false, alphaTemplate)
                : [alphaTemplate with { Sampler = Samplers.AlphaEuler, Steps = 50 }, alphaTemplate with { Sampler = Samplers.AlphaHeun, Steps = 25 }];
            Run(alpha, grid);
            if (full) RunRaw("α-deblending", alphaPath, alphaConfig, raw => Run(raw, SamplerComparison.Grid(alphaConfig, steps, includeDdpm: false, alphaTemplate)), notes);
            if (inputs.Wide is { } w) WideRows(w.Path, w.Given, alphaTemplate);
            if (inputs.Student is { } st) StudentRows(st.Path, st.Given);
            var gridOptions = alphaTemplate with { Sampler = Samplers.AlphaEuler, Steps = 50 };
            using LatentSamples shown = LatentDiffusionSampler.Generate(alphaNet, alphaConfig, inputs.Vae, Math.Min(72, n), inputs.Seed, gridOptions);
            return new SamplerTableResult(rows, shown.Images.clone(), gridOptions.Describe(alphaConfig) + (alpha.Ema ? ", EMA weights" : ""), notes);
        }
    }

    /// <summary>The progress line of a finished row: its FID, and the range over the seeds when it averages several.</summary>
    static string Summary(SamplerRow row) => row.Seeds == 1
        ? string.Create(CultureInfo.InvariantCulture, $"{row.Label}: FID {row.FidPreact:F3} ({row.RatioToValidation:F2}x Validation) in {row.Seconds:F1} s")
        : string.Create(CultureInfo.InvariantCulture,
            $"{row.Label}: FID {row.FidPreact:F3} (mean of {row.Seeds} seeds, {row.FidPreactRange.Min:F3}-{row.FidPreactRange.Max:F3}; {row.RatioToValidation:F2}x Validation) in {row.Seconds:F1} s a seed");

    /// <summary>An EMA run keeps its raw weights beside the averaged ones.</summary>
    static bool IsEma(string path) => File.Exists(RunDirectory.RawWeightsPath(path));

    static void RequireAlphaModel(DiffusionConfig config, string path, SamplerTableInputs inputs)
    {
        ModelFile.RequireFits(config, path, inputs.Vae, inputs.VaePath);
        if (config.Objective != DiffusionObjective.AlphaDeblending)
            throw new DataFormatException(path, $"is {config.KindName}, not an α-deblending model");
    }

    /// <summary>Runs <paramref name="body"/> on the raw weights saved beside <paramref name="path"/>, or notes that there are none.</summary>
    static void RunRaw(string name, string path, DiffusionConfig config, Action<ComparedModel> body, List<string> notes)
    {
        string raw = RunDirectory.RawWeightsPath(path);
        if (!File.Exists(raw))
        {
            notes.Add($"No raw weights beside {path} ({raw}), so the table has no raw rows for {name}.");
            return;
        }
        (UNet net, DiffusionConfig rawConfig) = ModelFile.LoadDiffusion(raw);
        using (net)
        {
            if (!rawConfig.UNet.Equals(config.UNet) || rawConfig.Objective != config.Objective)
                throw new DataFormatException(raw, $"does not hold the raw weights of {path} (another architecture or objective)");
            body(new ComparedModel(name, net, rawConfig, Ema: false));
        }
    }
}
