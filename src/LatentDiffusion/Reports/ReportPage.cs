using LatentDiffusion.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using LatentDiffusion.IO;

namespace LatentDiffusion.Reports;

/// <summary>
/// The report's pages: index.html and report.md say the same thing, composed once (<see cref="Compose"/>) and written
/// by two small writers. Links are relative file names in the report directory; the HTML has inline CSS and no
/// external asset (no CDN, no web font), so it opens from disk anywhere.
/// </summary>
public static class ReportPage
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Write(Part1ReportInputs inputs, Part1ReportResult result)
    {
        var html = new HtmlPage();
        Compose(html, inputs, result);
        AtomicFile.WriteAllText(result.IndexPath, html.ToString());
        var markdown = new MarkdownPage();
        Compose(markdown, inputs, result);
        AtomicFile.WriteAllText(result.MarkdownPath, markdown.ToString());
    }

    static void Compose(Page page, Part1ReportInputs inputs, Part1ReportResult result)
    {
        var eval = inputs.Evaluation;
        var info = inputs.ModelInfo;
        var test = inputs.Data.Test;
        ReportFigure? Figure(string name) => result.Figures.FirstOrDefault(f => f.FileName == name);

        page.Title("Latent Diffusion Series, part 1: the MNIST classifier, reproduced");
        page.Paragraph($"Model {info.Path} (SHA-256 {info.Sha256[..Math.Min(12, info.Sha256.Length)]}…), data {inputs.Data.Directory} " +
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

        page.Section("MNIST-FID baselines", null, () =>
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
            page.Section("Notes", null, () => page.List(result.Notes));
    }

    static string Pct(double value, int decimals = 2) => (100 * value).ToString("F" + decimals, Inv) + " %";

    /// <summary>The few constructs the page uses, written as HTML or Markdown.</summary>
    abstract class Page
    {
        protected readonly StringBuilder Text = new();
        public abstract void Title(string text);
        public abstract void Paragraph(string text);
        /// <summary>A line of text ending in a link to a file of the report.</summary>
        public abstract void Link(string text, string file);
        public abstract void Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows);
        public abstract void List(IReadOnlyList<string> items);

        /// <summary>A heading, then the numbers (if any) beside the figure (if any).</summary>
        public abstract void Section(string heading, ReportFigure? figure, Action? numbers);
        public override string ToString() => Text.ToString();
    }

    sealed class HtmlPage : Page
    {
        static string E(string s) => WebUtility.HtmlEncode(s);

        public override void Title(string text) => Text.Append(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(E(text)).Append("</title>\n<style>\n" +
            "body { font-family: sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }\n" +
            ".row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }\n" +
            ".numbers { flex: 0 1 26em; }\nfigure { flex: 1 1 30em; margin: 0; }\n" +
            "figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }\nfigure img.grid { image-rendering: pixelated; }\n" +
            "figcaption { color: #555; font-size: 0.9em; }\n" +
            "table { border-collapse: collapse; margin-bottom: 1em; }\nth, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }\n" +
            "th:first-child, td:first-child { text-align: left; }\n</style>\n</head>\n<body>\n<h1>").Append(E(text)).Append("</h1>\n");

        public override void Paragraph(string text) => Text.Append("<p>").Append(E(text)).Append("</p>\n");
        public override void Link(string text, string file) => Text.Append($"<p>{E(text)} <a href=\"{E(file)}\">{E(file)}</a></p>\n");

        public override void Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
        {
            Text.Append("<table>\n<tr>").AppendJoin("", header.Select(h => $"<th>{E(h)}</th>")).Append("</tr>\n");
            foreach (string[] row in rows) Text.Append("<tr>").AppendJoin("", row.Select(c => $"<td>{E(c)}</td>")).Append("</tr>\n");
            Text.Append("</table>\n");
        }

        public override void List(IReadOnlyList<string> items) =>
            Text.Append("<ul>\n").AppendJoin("", items.Select(i => $"<li>{E(i)}</li>\n")).Append("</ul>\n");

        public override void Section(string heading, ReportFigure? figure, Action? numbers)
        {
            if (figure is null && numbers is null) return;
            Text.Append("<h2>").Append(E(heading)).Append("</h2>\n<div class=\"row\">\n");
            if (numbers is not null) { Text.Append("<div class=\"numbers\">\n"); numbers(); Text.Append("</div>\n"); }
            if (figure is not null)
                Text.Append($"<figure><img{(figure.IsImageGrid ? " class=\"grid\"" : "")} src=\"{E(figure.FileName)}\" width=\"{figure.Width}\" height=\"{figure.Height}\" alt=\"{E(figure.Title)}\">")
                    .Append($"<figcaption>{E(figure.Caption)}</figcaption></figure>\n");
            Text.Append("</div>\n");
        }

        public override string ToString() => Text + "</body>\n</html>\n";
    }

    sealed class MarkdownPage : Page
    {
        static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

        public override void Title(string text) => Text.Append("# ").Append(text).Append("\n\n");

        public override void Paragraph(string text) => Text.Append(text).Append("\n\n");
        public override void Link(string text, string file) => Text.Append($"{text} [{file}]({file})\n\n");

        public override void Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
        {
            Text.Append("| ").AppendJoin(" | ", header.Select(Cell)).Append(" |\n|");
            Text.AppendJoin("", header.Select((_, i) => i == 0 ? " --- |" : " ---: |")).Append('\n');
            foreach (string[] row in rows) Text.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
            Text.Append('\n');
        }

        public override void List(IReadOnlyList<string> items) => Text.AppendJoin("", items.Select(i => $"- {i}\n")).Append('\n');

        public override void Section(string heading, ReportFigure? figure, Action? numbers)
        {
            if (figure is null && numbers is null) return;
            Text.Append("## ").Append(heading).Append("\n\n");
            numbers?.Invoke();
            if (figure is not null)
                Text.Append($"![{figure.Title}]({figure.FileName})\n\n*{figure.Caption}*\n\n");
        }
    }
}
