using System.Globalization;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Metrics;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// Part 3's figures, each from tensors, a schedule, sampler rows or a census to a PNG: digits noised by the forward
/// process, ᾱ_t of the two schedules, the samplers' FID against cost, the generated digits, their denoising
/// trajectories and the classifier's label histogram of them (the loss curve is <see cref="LossCurve"/>). Images are
/// (N, 1, H, W) in [0, 1], white ink on black, pixels sharp.
/// </summary>
public static class Part3Figures
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// One row per digit, one column per time: <paramref name="noised"/> (D·M, 1, H, W), digit-major, holds the
    /// digits of <paramref name="rowLabels"/> at the M <paramref name="times"/> (the post's figure 1, 4 × 8). t = 0 is
    /// labelled "x₀", the original.
    /// </summary>
    public static RenderedFigure ForwardNoising(Tensor noised, IReadOnlyList<string> rowLabels, IReadOnlyList<int> times, string subtitle, int scale)
    {
        if (noised.shape[0] != (long)rowLabels.Count * times.Count)
            throw new ArgumentException($"{noised.shape[0]} images for {rowLabels.Count} digits × {times.Count} times", nameof(noised));
        string[] columns = times.Select(t => t == 0 ? "x₀" : $"t = {t.ToString(Inv)}").ToArray();
        return DigitFigures.Tiles(noised, times.Count, "Forward process q(x_t | x₀) on test digits, in pixel space", subtitle, scale, rowLabels, columns);
    }

    /// <summary>ᾱ_t against t = 1..T for each schedule, one line each, labelled (the post's figure 2).</summary>
    public static RenderedFigure AlphaBar(IReadOnlyList<(string Label, NoiseSchedule Schedule)> schedules, int width, int height)
    {
        if (schedules.Count == 0) throw new ArgumentException("no schedules to plot", nameof(schedules));
        var curves = schedules.Select(s => new PlotFigures.Curve(s.Label,
            Enumerable.Range(1, s.Schedule.Steps).Select(t => (double)t).ToArray(),
            s.Schedule.Values.Select(v => (double)v).ToArray()) { MarkerSize = 0, LineWidth = 2 }).ToList();
        string steps = string.Join(", ", schedules.Select(s => s.Schedule.Steps).Distinct().Select(t => t.ToString(Inv)));
        using var plot = PlotFigures.Curves($"Noise schedules: ᾱ_t = Π (1 − β_s) over s ≤ t (T = {steps})", "t", "ᾱ_t", curves);
        plot.Axes.SetLimitsY(-0.02, 1.05);
        return PlotFigures.Encode(plot, width, height);
    }

    /// <summary>
    /// FID (preact, as a multiple of the Validation FID) against network evaluations per sample, log-log, one line per
    /// model, sampler and weights (EMA solid, raw dashed).
    /// </summary>
    public static RenderedFigure SamplerFid(IReadOnlyList<SamplerRow> rows, int width, int height)
    {
        if (rows.Count == 0) throw new ArgumentException("no sampler rows to plot", nameof(rows));
        // One colour per (model, sampler), EMA solid and raw dashed in it; the legend goes under the chart, where it
        // hides no curve however many models the table has.
        var palette = new ScottPlot.Palettes.Category10();
        var families = rows.Select(r => (r.Model, r.Sampler)).Distinct().ToList();
        var curves = rows.GroupBy(r => (r.Model, Sampler: r.Sampler, r.Ema))
            .Select(g => g.OrderBy(r => r.Evaluations).ToArray())
            .Select(g => new PlotFigures.Curve($"{g[0].Model} · {g[0].Sampler} · {(g[0].Ema ? "EMA" : "raw")}",
                g.Select(r => Math.Log10(r.Evaluations)).ToArray(), g.Select(r => Math.Log10(r.RatioToValidation)).ToArray())
            { Dashed = !g[0].Ema, MarkerSize = 6, Color = palette.GetColor(families.IndexOf((g[0].Model, g[0].Sampler))) })
            .ToList();
        using var plot = PlotFigures.Curves("Sampler quality against cost: FID of 10,000 digits", "network evaluations per sample (log scale)", "FID / Validation FID (log scale)", curves);
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        // Ticks at 1-2-5 decades on x (the rows' own counts, e.g. 19 and 20, would overprint) and at every integer
        // multiple on y, so that a 6.5× and a 7.9× row can be read off.
        int minX = rows.Min(r => r.Evaluations), maxX = rows.Max(r => r.Evaluations);
        var xs = new List<double>();
        for (double e = 0; e <= 4; e++)
            foreach (double m in new[] { 1, 2, 5 })
                if (m * Math.Pow(10, e) is double x && x >= minX / 1.5 && x <= maxX * 1.5) xs.Add(x);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs.Select(Math.Log10).ToArray(), xs.Select(x => x.ToString(Inv)).ToArray());
        double lo = Math.Floor(rows.Min(r => Math.Log10(r.RatioToValidation))), hi = Math.Ceiling(rows.Max(r => Math.Log10(r.RatioToValidation)));
        var yTicks = new List<double>();
        for (double e = lo; e <= hi; e++)
            foreach (double m in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }) yTicks.Add(m * Math.Pow(10, e));
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(yTicks.Select(Math.Log10).ToArray(), yTicks.Select(y => y.ToString("0.##", Inv) + "×").ToArray());
        return PlotFigures.Encode(plot, width, height);
    }

    /// <summary>The generated digits (N, 1, H, W) in rows of <paramref name="columns"/> (the post's figure 4, 6 × 12).</summary>
    public static RenderedFigure Samples(Tensor images, int columns, string subtitle, int scale) =>
        DigitFigures.Tiles(images, columns, "Generated digits: DDPM in the VAE's latent space, decoded", subtitle, scale);

    /// <summary>
    /// Rows: the first <paramref name="rows"/> samples; columns: their decoded latents after each entry's Step of
    /// <paramref name="totalSteps"/> denoising steps (labelled with the time t = T − Step reached). Not in the post.
    /// </summary>
    public static RenderedFigure Trajectory(IReadOnlyList<(int Step, Tensor Images)> trajectory, int rows, int totalSteps, string subtitle, int scale)
    {
        if (trajectory.Count == 0) throw new ArgumentException("no trajectory steps to draw", nameof(trajectory));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        foreach (var (step, images) in trajectory)
            if (images.shape[0] < rows) throw new ArgumentException($"step {step} holds {images.shape[0]} images for {rows} rows", nameof(trajectory));
        using var scope = NewDisposeScope();
        // (S, k, 1, H, W) → (rows, S, 1, H, W): sample-major, so each row follows one sample.
        Tensor stacked = stack(trajectory.Select(e => e.Images.narrow(0, 0, rows)).ToArray(), 1);
        Tensor cells = stacked.reshape(-1, 1, stacked.shape[3], stacked.shape[4]);
        string[] columns = trajectory.Select(e => $"t = {(totalSteps - e.Step).ToString(Inv)}").ToArray();
        string[] rowLabels = Enumerable.Range(1, rows).Select(i => $"#{i.ToString(Inv)}").ToArray();
        return DigitFigures.Tiles(cells, trajectory.Count, "Denoising: decoded latents x_t on the way from x_T ~ N(0, I) to x₀", subtitle, scale,
            rowLabels, columns);
    }

    /// <summary>The share of generated digits the classifier labels as each digit, beside MNIST's test-set proportions. Not in the post.</summary>
    public static RenderedFigure Census(DigitCensus census, long count, int width, int height)
    {
        if (census.Fractions.Length != 10 || census.ReferenceFractions.Length != 10) throw new ArgumentException("a census has ten digits", nameof(census));
        return PlotFigures.GroupedBars(Enumerable.Range(0, 10).Select(d => d.ToString(Inv)).ToArray(),
            [
                ($"generated ({count.ToString(Inv)} digits, labelled by the classifier)", census.Fractions),
                ("MNIST test set (true labels)", census.ReferenceFractions),
            ],
            string.Create(Inv, $"Which digits the model draws (total variation {census.TotalVariation:F3})"), "digit", "fraction of the digits", width, height);
    }
}
