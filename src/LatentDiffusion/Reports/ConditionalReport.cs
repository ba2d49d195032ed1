using System.Globalization;
using LatentDiffusion.Metrics;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>What the class-conditional report shows: the guidance sweep, the balanced grid and where they came from.</summary>
/// <param name="Sweep">One row per guidance weight, in increasing order.</param>
/// <param name="Grid">(10·k, 1, 32, 32) digits, k per digit, digit-major, at <paramref name="GridGuidance"/>.</param>
public sealed record ConditionalReportInputs(IReadOnlyList<GuidanceRow> Sweep, Tensor Grid, double GridGuidance)
{
    public string? ModelPath { get; init; }

    /// <summary>How the digits were sampled, e.g. "α-deblending 50 Euler steps".</summary>
    public string Sampler { get; init; } = "";

    /// <summary>The per-class FID of the real test digits of each class against the training digits of that class (the floor at this N).</summary>
    public IReadOnlyList<DigitGrade>? TestDigits { get; init; }

    /// <summary>An unconditional model's samples grouped by the classifier's label, each group's FID against that digit's training images: the per-class FID to beat at a similar sample size.</summary>
    public IReadOnlyList<DigitGrade>? UnconditionalByLabel { get; init; }

    /// <summary>What <see cref="UnconditionalByLabel"/> was made from.</summary>
    public string? UnconditionalName { get; init; }

    public long Seed { get; init; }
}

/// <summary>
/// The class-conditional model's report: a balanced grid (one row per digit), the guidance sweep as a
/// table and a figure (classifier accuracy and per-class FID against w), per-digit grades at the chosen w.
/// </summary>
public static class ConditionalReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<ReportFigure> Write(ConditionalReportInputs inputs, string outDirectory)
    {
        if (inputs.Sweep.Count == 0) throw new ArgumentException("no guidance weights graded", nameof(inputs));
        Directory.CreateDirectory(outDirectory);
        var figures = new FigureWriter(outDirectory);
        int perDigit = (int)(inputs.Grid.shape[0] / 10);
        figures.Save("balanced_grid.png",
            DigitFigures.Tiles(inputs.Grid, perDigit, "Asked-for digits: one row per digit", $"guidance w = {F(inputs.GridGuidance, 1)}, {inputs.Sampler}, seed {inputs.Seed}", 3,
                Enumerable.Range(0, 10).Select(d => d.ToString(Inv)).ToArray()),
            "Balanced grid", $"{perDigit} digits of each class (row d asks for d) at w = {F(inputs.GridGuidance, 1)}: every digit generated, in the first {perDigit} draws of the seed.",
            isImageGrid: true);
        figures.Save("guidance_sweep.png", SweepFigure(inputs), "Guidance sweep",
            "Left: the share of samples the classifier reads as the digit asked for (all digits, and the worst digit). Right: the per-class FID " +
            "(w = 0, the label ignored, is in the table only: about 10 % read as asked and per-class FIDs in the hundreds) " +
            "(preact) against that digit's training images, mean and worst over the ten digits" +
            (inputs.TestDigits is { } t ? $"; dashed: the real test digits' own per-class FID (mean {F(t.Average(g => g.Fid), 2)}), the floor at this sample size" : "") + ".");
        Page.WriteBoth(outDirectory, page => Compose(page, inputs, figures));
        return figures.Figures;
    }

    static RenderedFigure SweepFigure(ConditionalReportInputs inputs)
    {
        // w = 0 ignores the label (≈ 10 % read as asked, per-class FID in the hundreds): in the table, not on the axes.
        var sweep = inputs.Sweep.Where(r => r.Guidance > 0).ToList();
        if (sweep.Count == 0) sweep = inputs.Sweep.ToList();
        double[] w = sweep.Select(r => r.Guidance).ToArray();
        var accuracy = PlotFigures.Curves("Classifier accuracy against guidance", "guidance weight w", "read as the digit asked for (%)",
        [
            new PlotFigures.Curve("all digits", w, sweep.Select(r => 100 * r.Accuracy).ToArray()),
            new PlotFigures.Curve("worst digit", w, sweep.Select(r => 100 * r.WorstAccuracy).ToArray()) { Dashed = true },
            new PlotFigures.Curve("goal: 99 %", [w[0], w[^1]], [99, 99]) { Dashed = true, MarkerSize = 0 },
        ]);
        accuracy.ShowLegend(ScottPlot.Alignment.LowerRight);
        var curves = new List<PlotFigures.Curve>
        {
            new("mean over digits", w, sweep.Select(r => r.MeanFid).ToArray()),
            new("worst digit", w, sweep.Select(r => r.WorstFid).ToArray()),
        };
        if (inputs.TestDigits is { } test)
            curves.Add(new PlotFigures.Curve("test digits (floor)", [w[0], w[^1]], [test.Average(g => g.Fid), test.Average(g => g.Fid)]) { Dashed = true, MarkerSize = 0 });
        if (inputs.UnconditionalByLabel is { Count: > 0 } plain)
            curves.Add(new PlotFigures.Curve("unconditional model, by label", [w[0], w[^1]], [plain.Average(g => g.Fid), plain.Average(g => g.Fid)]) { Dashed = true, MarkerSize = 0 });
        var fid = PlotFigures.Curves("Per-class FID against guidance", "guidance weight w", "FID to that digit's training images", curves);
        return PlotFigures.Panels([accuracy, fid], 2, 560, 400);
    }

    static void Compose(Page page, ConditionalReportInputs inputs, FigureWriter figures)
    {
        page.Title("Ask for a digit: class-conditional latent diffusion with classifier-free guidance");
        page.Paragraph($"Model {(inputs.ModelPath is { } model ? ReportPaths.Display(model) : "(not from a file)")}; {inputs.Sampler}; seed {inputs.Seed}. Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. " +
                       "Guidance: ε̃ = ε(x, ∅) + w·(ε(x, y) − ε(x, ∅)) (Ho and Salimans 2022); w = 0 ignores the label, w = 1 is the plain conditional model.");
        page.Section("Balanced grid", figures.Find("balanced_grid.png"), null);
        page.Section("Guidance sweep", figures.Find("guidance_sweep.png"), () =>
        {
            page.Table(["w", "read as asked", "worst digit", "mean confidence", "mean per-class FID", "worst per-class FID", "precision", "recall", "density", "coverage", "memorised", "seconds"],
                inputs.Sweep.Select(r => new[]
                {
                    F(r.Guidance, 1), Pct(r.Accuracy) + (r.Seeds > 1 ? $" ({Pct(r.AccuracyRange.Min)}–{Pct(r.AccuracyRange.Max)})" : ""), Pct(r.WorstAccuracy), Pct(r.MeanConfidence),
                    F(r.MeanFid, 2) + (r.Seeds > 1 ? $" ({F(r.MeanFidRange.Min, 2)}–{F(r.MeanFidRange.Max, 2)})" : ""), F(r.WorstFid, 2),
                    M(r.Mean(d => d.Manifold?.Precision)), M(r.Mean(d => d.Manifold?.Recall)), M(r.Mean(d => d.Manifold?.Density)),
                    M(r.Mean(d => d.Manifold?.Coverage)), M(r.Mean(d => d.MemorisedFraction)), F(r.Seconds, 0),
                }).ToList());
            int seeds = inputs.Sweep[0].Seeds;
            int n = inputs.Sweep[0].Digits[0].Count / seeds;
            var notes = new List<string>();
            if (seeds > 1)
                notes.Add($"Each weight sampled at {seeds} seeds ({inputs.Seed}–{inputs.Seed + seeds - 1}): every number is the mean of the seeds' own (the worst digit: " +
                          "the mean of each seed's worst), with the lowest and highest accuracy and mean per-class FID in brackets; the grid is the first seed's. " +
                          "The test digits and the unconditional reference are one set each.");
            notes.AddRange(new List<string>
            {
                $"{n} samples per digit and weight; accuracy = the share part 1's classifier (99.1 % on real test digits) labels as the digit asked for.",
                "Per-class FID: the samples of one digit against the ~6,000 training images of that digit (preact features); with " +
                $"{n} samples it carries a small-sample bias, which the real test digits' own per-class FID shows.",
                "Precision, recall (k = 3), density, coverage (k = 5) and memorised (the share nearer to a training image of the digit than 99 % of " +
                "that digit's test images are), each per digit against that digit's training images, then averaged over the digits (docs/metrics.md). " +
                "They depend on the set sizes: compare them with the test digits' row below, not with the unconditional tables.",
            });
            if (inputs.UnconditionalByLabel is { Count: > 0 } plain)
                notes.Add($"Unconditional reference: {inputs.UnconditionalName ?? "an unconditional model"}: mean per-class FID {F(plain.Average(g => g.Fid), 2)} " +
                          $"(worst {F(plain.Max(g => g.Fid), 2)}; groups of {plain.Min(g => g.Count)}–{plain.Max(g => g.Count)} digits) — the same measure at a similar sample size.");
            page.List(notes);
        });
        GuidanceRow chosen = inputs.Sweep.FirstOrDefault(r => r.Guidance == inputs.GridGuidance) ?? inputs.Sweep[^1];
        page.Section($"Per digit at w = {F(chosen.Guidance, 1)}", [], () =>
            page.Table(["digit", "read as asked", "mean confidence", "per-class FID", "precision", "recall", "density", "coverage", "memorised",
                    "unconditional model, by label", "test digits' per-class FID", "test digits' precision / recall / density / coverage / memorised"],
                chosen.Digits.Select(d => new[]
                {
                    d.Digit.ToString(Inv), $"{d.Correct}/{d.Count} ({Pct(d.Accuracy)})", Pct(d.MeanConfidence), F(d.Fid, 2),
                    M(d.Manifold?.Precision), M(d.Manifold?.Recall), M(d.Manifold?.Density), M(d.Manifold?.Coverage), M(d.MemorisedFraction),
                    inputs.UnconditionalByLabel?.FirstOrDefault(u => u.Digit == d.Digit) is { } u ? $"{F(u.Fid, 2)} ({u.Count} digits)" : "",
                    inputs.TestDigits?.FirstOrDefault(t => t.Digit == d.Digit) is { } t ? F(t.Fid, 2) : "",
                    inputs.TestDigits?.FirstOrDefault(t => t.Digit == d.Digit) is { Manifold: { } tm } tq
                        ? $"{M(tm.Precision)} / {M(tm.Recall)} / {M(tm.Density)} / {M(tm.Coverage)} / {M(tq.MemorisedFraction)}" : "",
                }).ToList()));
    }

    static string F(double v, int digits) => v.ToString("F" + digits, Inv);

    static string M(double? value) => value is double v ? F(v, 3) : "-";

    static string Pct(double v) => (100 * v).ToString("F1", Inv) + " %";
}
