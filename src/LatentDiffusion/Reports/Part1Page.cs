using LatentDiffusion.Metrics;
using System.Globalization;

namespace LatentDiffusion.Reports;

/// <summary>Part 1's index.html and report.md, composed once (<see cref="Compose"/>) for both <see cref="Page"/> writers.</summary>
public static class Part1Page
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(Part1ReportInputs inputs, Part1ReportResult result) =>
        Page.WriteBoth(result.Directory, page => Compose(page, inputs, result));

    static void Compose(Page page, Part1ReportInputs inputs, Part1ReportResult result)
    {
        var eval = inputs.Evaluation;
        var info = inputs.ModelInfo;
        var test = inputs.Data.Test;
        ReportFigure? Figure(string name) => result.Figures.FirstOrDefault(f => f.FileName == name);

        page.Title("Latent Diffusion Series, part 1: the MNIST classifier, reproduced");
        page.Paragraph($"Model {ReportPaths.Display(info.Path)} (SHA-256 {info.Sha256[..Math.Min(12, info.Sha256.Length)]}…), data {ReportPaths.Display(inputs.Data.Directory)} " +
                       $"({inputs.Data.Train.Count} training and {test.Count} test images). Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");

        page.Section("Data", Figure("samples.png"), null);

        var history = inputs.History;
        var training = new List<string[]>
        {
            new[] { "Parameters", info.ParameterCount.ToString(Inv), BlogPart1.ParameterCount.ToString(Inv) },
            new[] { "Training time", info.TrainingSeconds is { } s ? $"{s:F0} s ({s / 60:F1} min)" : "unknown", "" },
        };
        if (history is { Count: > 0 })
        {
            training.Add(["Epochs", history[^1].Epoch.ToString(Inv), "100"]);
            training.Add(["Final train loss", history[^1].TrainLoss.ToString("F4", Inv), ""]);
            training.Add(["Final validation loss", history[^1].ValLoss.ToString("F4", Inv), ""]);
        }
        page.Section("Training", Figure("loss.png"), () => page.Table(["", "ours", "blog"], training));

        page.Section("Test accuracy", Figure("confusion.png"), () =>
        {
            page.Table(["", "ours", "blog"],
            [
                ["Test accuracy", $"{Pct(eval.Accuracy)} ({eval.Correct}/{eval.Count})", Pct(BlogPart1.TestAccuracy, 1)],
                ["Test loss", eval.Loss.ToString("F4", Inv), ""],
                ["Misclassified", result.Misclassified.ToString(Inv), ""],
            ]);
            page.Table(["digit", "accuracy", "images"], eval.PerClassAccuracy.Select((a, d) => new[]
            {
                d.ToString(Inv), double.IsNaN(a) ? "n/a" : Pct(a), eval.Confusion[d].Sum().ToString(Inv),
            }).ToList());
        });
        page.Section("Misclassified digits", Figure("misclassified.png"), null);

        foreach (var figure in result.Figures.Where(f => f.FileName.StartsWith("activations_layer", StringComparison.Ordinal)))
            page.Section(figure.Title, figure, null);

        var n = result.NormalitySummary;
        page.Section("FID features: how normal are they?", Figure("feature_histograms.png"), () =>
        {
            page.Paragraph($"The Fréchet distance treats the {n.Features} features as Gaussian. Measured over the {n.SampleSize} test images:");
            page.Table(["measure", "features"],
            [
                [$"|skewness| < {n.SkewThreshold.ToString(Inv)}", $"{n.SmallSkew} of {n.Features}"],
                [$"|excess kurtosis| < {n.KurtosisThreshold.ToString(Inv)}", $"{n.SmallKurtosis} of {n.Features}"],
                ["both", $"{n.BothSmall} of {n.Features}"],
                ["median |skewness|", n.MedianAbsSkewness.ToString("F3", Inv)],
                ["median |excess kurtosis|", n.MedianAbsExcessKurtosis.ToString("F3", Inv)],
                ["median KS distance", n.MedianKs.ToString("F4", Inv)],
                ["largest KS distance", n.MaxKs.ToString("F4", Inv)],
                [$"KS above the 5 % critical value {n.KsCritical.ToString("F4", Inv)}", $"{n.AboveKsCritical} of {n.Features}"],
            ]);
            page.Link("Per-feature mean, std, skewness, excess kurtosis and KS distance:", FeatureNormality.CsvName);
        });
        page.Section("KS distances", Figure("ks_distances.png"), null);

        page.Section("MNIST-FID baselines", [], () =>
        {
            if (inputs.FidRows is not { Count: > 0 } rows)
            {
                page.Paragraph($"Not computed in this run. The blog reports FID {BlogPart1.FidRandom.ToString("F2", Inv)} for random images " +
                               $"and {BlogPart1.FidValidation.ToString("F2", Inv)} for the validation split.");
                return;
            }
            page.Table(["baseline", "FID (ours)", "ratio to random", "FID (blog)", "blog ratio"], rows.Select(r => new[]
            {
                r.Name, r.Fid.ToString("F2", Inv), r.RatioToRandom.ToString("F4", Inv),
                r.BlogFid is { } b ? b.ToString("F2", Inv) : "",
                r.BlogFid is { } c ? (c / BlogPart1.FidRandom).ToString("F4", Inv) : "",
            }).ToList());
        });

        if (result.Notes.Count > 0)
            page.Section("Notes", [], () => page.List(result.Notes));
    }

    static string Pct(double value, int decimals = 2) => (100 * value).ToString("F" + decimals, Inv) + " %";
}
