using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>What the class-conditional report shows: the guidance sweep, the balanced grid and where they came from.</summary>
/// <param name="Sweep">One row per guidance weight, in increasing order.</param>
/// <param name="Grid">(classes·k, C, S, S) samples, k per class, class-major, at <paramref name="GridGuidance"/>.</param>
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

    /// <summary>How the report names the classes (MNIST's digits unless the data says otherwise).</summary>
    public ClassWords Words { get; init; } = ClassWords.Digits;

    /// <summary>The dataset's name for the title and captions ("MNIST" when not said).</summary>
    public string DataName { get; init; } = KnownDatasets.Mnist.Name;
}

/// <summary>
/// The class-conditional model's report: a balanced grid (one row per class), the guidance sweep as a table and a
/// figure (classifier accuracy and per-class FID against w), per-class grades at the chosen w. MNIST's words and goal
/// (99 % read as asked) for MNIST; for any other data its class names, and the goal each class must meet: the share
/// of its real test images the classifier reads as it, minus 2 points.
/// </summary>
public static class ConditionalReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<ReportFigure> Write(ConditionalReportInputs inputs, string outDirectory)
    {
        if (inputs.Sweep.Count == 0) throw new ArgumentException("no guidance weights graded", nameof(inputs));
        Directory.CreateDirectory(outDirectory);
        var figures = new FigureWriter(outDirectory);
        ClassWords words = inputs.Words;
        int classes = inputs.Sweep[0].Digits.Count;
        int perClass = (int)(inputs.Grid.shape[0] / classes);
        string[] rowLabels = Enumerable.Range(0, classes).Select(c => c < words.Names.Count ? words.Names[c] : c.ToString(Inv)).ToArray();
        string rowsSay = words.IsMnist ? "row d asks for d" : "row c asks for class c, named at its left";
        figures.Save("balanced_grid.png",
            DigitFigures.Tiles(inputs.Grid, perClass, $"Asked-for {words.Classes}: one row per {words.Singular}", $"guidance w = {F(inputs.GridGuidance, 1)}, {inputs.Sampler}, seed {inputs.Seed}", 3,
                rowLabels),
            "Balanced grid", $"{perClass} {words.Samples} of each class ({rowsSay}) at w = {F(inputs.GridGuidance, 1)}: every {words.Singular} generated, in the first {perClass} draws of the seed.",
            isImageGrid: true);
        (double Percent, string Label)? goal = Goal(inputs);
        string mnistW0 = words.IsMnist ? ": about 10 % read as asked and per-class FIDs in the hundreds" : "";
        figures.Save("guidance_sweep.png", SweepFigure(inputs, goal), "Guidance sweep",
            $"Left: the share of samples the classifier reads as the {words.Singular} asked for (all {words.Classes}, and the worst {words.Singular})" +
            (goal is var (_, goalLabel) ? (words.IsMnist ? "" : $"; dashed: {goalLabel}") : "") + ". Right: the per-class FID " +
            $"(w = 0, the label ignored, is in the table only{mnistW0}) " +
            $"(preact) against that {words.Singular}'s training images, mean and worst over the {(words.IsMnist ? "ten digits" : $"{classes} classes")}" +
            (inputs.TestDigits is { } t ? $"; dashed: the real test {words.Samples}' own per-class FID (mean {F(t.Average(g => g.Fid), 2)}), the floor at this sample size" : "") + ".");
        Page.WriteBoth(outDirectory, page => Compose(page, inputs, figures));
        return figures.Figures;
    }

    /// <summary>
    /// The accuracy panel's goal line: MNIST's 99 %; for other data the real test images' share read as labelled minus
    /// 2 points (each class's own goal is in the per-class table); none without the test images' grades.
    /// </summary>
    static (double Percent, string Label)? Goal(ConditionalReportInputs inputs)
    {
        if (inputs.Words.IsMnist) return (99, "goal: 99 %");
        if (inputs.TestDigits is not { Count: > 0 } test) return null;
        double real = 100 * new GuidanceRow(double.NaN, test, 0).Accuracy;
        return (real - 2, $"real test {inputs.Words.Samples} − 2 points ({F(real - 2, 1)} %)");
    }

    static RenderedFigure SweepFigure(ConditionalReportInputs inputs, (double Percent, string Label)? goal)
    {
        ClassWords words = inputs.Words;
        // w = 0 ignores the label (≈ 1 / classes read as asked, per-class FID far above): in the table, not on the axes.
        var sweep = inputs.Sweep.Where(r => r.Guidance > 0).ToList();
        if (sweep.Count == 0) sweep = inputs.Sweep.ToList();
        double[] w = sweep.Select(r => r.Guidance).ToArray();
        var accuracyCurves = new List<PlotFigures.Curve>
        {
            new($"all {words.Classes}", w, sweep.Select(r => 100 * r.Accuracy).ToArray()),
            new($"worst {words.Singular}", w, sweep.Select(r => 100 * r.WorstAccuracy).ToArray()) { Dashed = true },
        };
        if (goal is var (percent, label))
            accuracyCurves.Add(new PlotFigures.Curve(label, [w[0], w[^1]], [percent, percent]) { Dashed = true, MarkerSize = 0 });
        var accuracy = PlotFigures.Curves("Classifier accuracy against guidance", "guidance weight w", $"read as the {words.Singular} asked for (%)", accuracyCurves);
        accuracy.ShowLegend(ScottPlot.Alignment.LowerRight);
        var curves = new List<PlotFigures.Curve>
        {
            new($"mean over {words.Classes}", w, sweep.Select(r => r.MeanFid).ToArray()),
            new($"worst {words.Singular}", w, sweep.Select(r => r.WorstFid).ToArray()),
        };
        if (inputs.TestDigits is { } test)
            curves.Add(new PlotFigures.Curve($"test {words.Samples} (floor)", [w[0], w[^1]], [test.Average(g => g.Fid), test.Average(g => g.Fid)]) { Dashed = true, MarkerSize = 0 });
        if (inputs.UnconditionalByLabel is { Count: > 0 } plain)
            curves.Add(new PlotFigures.Curve("unconditional model, by label", [w[0], w[^1]], [plain.Average(g => g.Fid), plain.Average(g => g.Fid)]) { Dashed = true, MarkerSize = 0 });
        var fid = PlotFigures.Curves("Per-class FID against guidance", "guidance weight w", $"FID to that {words.Singular}'s training images", curves);
        return PlotFigures.Panels([accuracy, fid], 2, 560, 400);
    }

    static void Compose(Page page, ConditionalReportInputs inputs, FigureWriter figures)
    {
        ClassWords words = inputs.Words;
        page.Title(words.IsMnist ? "Ask for a digit: class-conditional latent diffusion with classifier-free guidance"
            : $"Ask for a class of {inputs.DataName}: class-conditional latent diffusion with classifier-free guidance");
        page.Paragraph($"Model {(inputs.ModelPath is { } model ? ReportPaths.Display(model) : "(not from a file)")}; {inputs.Sampler}; seed {inputs.Seed}. Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. " +
                       "Guidance: ε̃ = ε(x, ∅) + w·(ε(x, y) − ε(x, ∅)) (Ho and Salimans 2022); w = 0 ignores the label, w = 1 is the plain conditional model.");
        page.Section("Balanced grid", figures.Find("balanced_grid.png"), null);
        page.Section("Guidance sweep", figures.Find("guidance_sweep.png"), () =>
        {
            page.Table(["w", "read as asked", $"worst {words.Singular}", "mean confidence", "mean per-class FID", "worst per-class FID", "precision", "recall", "density", "coverage", "memorised", "seconds"],
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
                notes.Add($"Each weight sampled at {seeds} seeds ({inputs.Seed}–{inputs.Seed + seeds - 1}): every number is the mean of the seeds' own (the worst {words.Singular}: " +
                          "the mean of each seed's worst), with the lowest and highest accuracy and mean per-class FID in brackets; the grid is the first seed's. " +
                          $"The test {words.Samples} and the unconditional reference are one set each.");
            string realAccuracy = words.IsMnist ? "part 1's classifier (99.1 % on real test digits)"
                : inputs.TestDigits is { Count: > 0 } real ? $"the dataset's classifier ({Pct(new GuidanceRow(double.NaN, real, 0).Accuracy)} on real test images)" : "the dataset's classifier";
            string s = words.Singular, x = words.Samples;
            notes.AddRange(new List<string>
            {
                $"{n} samples per {s} and weight; accuracy = the share {realAccuracy} labels as the {s} asked for.",
                $"Per-class FID: the samples of one {s} against the {(words.IsMnist ? "~6,000 " : "")}training images of that {s} (preact features); with " +
                $"{n} samples it carries a small-sample bias, which the real test {x}' own per-class FID shows.",
                $"Precision, recall (k = 3), density, coverage (k = 5) and memorised (the share nearer to a training image of the {s} than 99 % of " +
                $"that {s}'s test images are), each per {s} against that {s}'s training images, then averaged over the {words.Classes} (docs/metrics.md). " +
                $"They depend on the set sizes: compare them with the test {x}' row below, not with the unconditional tables.",
            });
            if (!words.IsMnist && Goal(inputs) is not null)
                notes.Add($"Goal for each class: read as asked at least as often as the classifier reads that class's real test images, minus 2 points " +
                          "(the per-class table's last column).");
            if (inputs.UnconditionalByLabel is { Count: > 0 } plain)
                notes.Add($"Unconditional reference: {inputs.UnconditionalName ?? "an unconditional model"}: mean per-class FID {F(plain.Average(g => g.Fid), 2)} " +
                          $"(worst {F(plain.Max(g => g.Fid), 2)}; groups of {plain.Min(g => g.Count)}–{plain.Max(g => g.Count)} {x}) — the same measure at a similar sample size.");
            page.List(notes);
        });
        GuidanceRow chosen = inputs.Sweep.FirstOrDefault(r => r.Guidance == inputs.GridGuidance) ?? inputs.Sweep[^1];
        string samples = words.Samples;
        string[] header = ["digit", "read as asked", "mean confidence", "per-class FID", "precision", "recall", "density", "coverage", "memorised",
            "unconditional model, by label", $"test {samples}' per-class FID", $"test {samples}' precision / recall / density / coverage / memorised"];
        if (!words.IsMnist) header = ["class", .. header[1..], "real test images read as labelled", "difference (points; goal ≥ −2)"];
        page.Section($"Per {words.Singular} at w = {F(chosen.Guidance, 1)}", [], () =>
            page.Table(header,
                chosen.Digits.Select(string[] (d) =>
                [
                    words.IsMnist ? d.Digit.ToString(Inv) : words.Describe(d.Digit), $"{d.Correct}/{d.Count} ({Pct(d.Accuracy)})", Pct(d.MeanConfidence), F(d.Fid, 2),
                    M(d.Manifold?.Precision), M(d.Manifold?.Recall), M(d.Manifold?.Density), M(d.Manifold?.Coverage), M(d.MemorisedFraction),
                    inputs.UnconditionalByLabel?.FirstOrDefault(u => u.Digit == d.Digit) is { } u ? $"{F(u.Fid, 2)} ({u.Count} {samples})" : "",
                    inputs.TestDigits?.FirstOrDefault(t => t.Digit == d.Digit) is { } t ? F(t.Fid, 2) : "",
                    inputs.TestDigits?.FirstOrDefault(t => t.Digit == d.Digit) is { Manifold: { } tm } tq
                        ? $"{M(tm.Precision)} / {M(tm.Recall)} / {M(tm.Density)} / {M(tm.Coverage)} / {M(tq.MemorisedFraction)}" : "",
                    .. (words.IsMnist ? Array.Empty<string>() : RealColumns(d, inputs.TestDigits)),
                ]).ToList()));
    }

    /// <summary>A non-MNIST class's last two columns: its real test images' share read as labelled, and the generated share's difference from it.</summary>
    static string[] RealColumns(DigitGrade generated, IReadOnlyList<DigitGrade>? test) =>
        test?.FirstOrDefault(t => t.Digit == generated.Digit) is { } real
            ? [Pct(real.Accuracy), (100 * (generated.Accuracy - real.Accuracy)).ToString("+0.0;−0.0;0.0", Inv)]
            : ["", ""];

    static string F(double v, int digits) => v.ToString("F" + digits, Inv);

    static string M(double? value) => value is double v ? F(v, 3) : "-";

    static string Pct(double v) => (100 * v).ToString("F1", Inv) + " %";
}
