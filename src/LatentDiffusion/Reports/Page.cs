using System.Net;
using System.Text;
using LatentDiffusion.IO;

namespace LatentDiffusion.Reports;

/// <summary>
/// A report page built from a few constructs — title, paragraph, link, table, list, section of figures beside numbers —
/// written as HTML (<see cref="HtmlPage"/>) or Markdown (<see cref="MarkdownPage"/>). A report composes its page once,
/// as a method taking a <see cref="Page"/>, and <see cref="WriteBoth"/> runs it for both formats, so index.html and
/// report.md say the same thing. Links are relative file names in the report directory; the HTML has inline CSS and no
/// external asset (no CDN, no web font), so it opens from disk anywhere.
/// </summary>
public abstract class Page
{
    public const string IndexName = "index.html";
    public const string MarkdownName = "report.md";

    protected readonly StringBuilder Text = new();

    public abstract void Title(string text);
    public abstract void Paragraph(string text);

    /// <summary>A line of text ending in a link to a file of the report.</summary>
    public abstract void Link(string text, string file);

    public abstract void Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows);
    public abstract void List(IReadOnlyList<string> items);

    /// <summary>A heading, then the numbers (if any) beside the figures (if any); nothing when both are missing.</summary>
    public abstract void Section(string heading, IReadOnlyList<ReportFigure> figures, Action? numbers);

    /// <summary>A heading, then the numbers (if any) beside the figure (if any).</summary>
    public void Section(string heading, ReportFigure? figure, Action? numbers) =>
        Section(heading, figure is null ? [] : [figure], numbers);

    public override string ToString() => Text.ToString();

    /// <summary>Composes the page as HTML and as Markdown and writes <see cref="IndexName"/> and <see cref="MarkdownName"/> into <paramref name="directory"/>.</summary>
    public static void WriteBoth(string directory, Action<Page> compose)
    {
        var html = new HtmlPage();
        compose(html);
        AtomicFile.WriteAllText(Path.Combine(directory, IndexName), html.ToString());
        var markdown = new MarkdownPage();
        compose(markdown);
        AtomicFile.WriteAllText(Path.Combine(directory, MarkdownName), markdown.ToString());
    }
}

/// <summary>The page as a self-contained HTML document.</summary>
public sealed class HtmlPage : Page
{
    /// <summary>Table cells up to this many characters stay on one line; longer ones are prose and wrap.</summary>
    const int ShortCell = 32;

    static string E(string s) => WebUtility.HtmlEncode(s);

    public override void Title(string text) => Text.Append(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(E(text)).Append("</title>\n<style>\n" +
        "body { font-family: sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }\n" +
        ".row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }\n" +
        ".numbers { flex: 0 1 26em; }\nfigure { flex: 1 1 30em; margin: 0; }\n" +
        "figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }\nfigure img.grid { image-rendering: pixelated; }\n" +
        "figcaption { color: #555; font-size: 0.9em; }\n" +
        "table { border-collapse: collapse; margin-bottom: 1em; }\n" +
        "th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }\ntd { white-space: nowrap; }\n" +
        "th:first-child, td:first-child, .left, td.text { text-align: left; }\ntd.text { white-space: normal; min-width: 16em; overflow-wrap: anywhere; }\n" +
        ".numbers:only-child { flex: 1 1 auto; }\n</style>\n</head>\n<body>\n<h1>").Append(E(text)).Append("</h1>\n");

    public override void Paragraph(string text) => Text.Append("<p>").Append(E(text)).Append("</p>\n");
    public override void Link(string text, string file) => Text.Append($"<p>{E(text)} <a href=\"{E(file)}\">{E(file)}</a></p>\n");

    /// <summary>
    /// A column holding prose (any cell longer than <see cref="ShortCell"/>) is left-aligned, its long cells wrapping in a
    /// column of readable width; the other columns (numbers) are right-aligned. Short cells keep to one line, so the data,
    /// not the headers (which may wrap), set the columns' widths.
    /// </summary>
    public override void Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        bool[] prose = header.Select((_, i) => i > 0 && rows.Any(r => i < r.Length && r[i].Length > ShortCell)).ToArray();
        string Class(int column, string cell) =>
            cell.Length > ShortCell ? " class=\"text\"" : column < prose.Length && prose[column] ? " class=\"left\"" : "";
        Text.Append("<table>\n<tr>").AppendJoin("", header.Select((h, i) => $"<th{Class(i, "")}>{E(h)}</th>")).Append("</tr>\n");
        foreach (string[] row in rows) Text.Append("<tr>").AppendJoin("", row.Select((c, i) => $"<td{Class(i, c)}>{E(c)}</td>")).Append("</tr>\n");
        Text.Append("</table>\n");
    }

    public override void List(IReadOnlyList<string> items) =>
        Text.Append("<ul>\n").AppendJoin("", items.Select(i => $"<li>{E(i)}</li>\n")).Append("</ul>\n");

    public override void Section(string heading, IReadOnlyList<ReportFigure> figures, Action? numbers)
    {
        if (figures.Count == 0 && numbers is null) return;
        Text.Append("<h2>").Append(E(heading)).Append("</h2>\n<div class=\"row\">\n");
        if (numbers is not null) { Text.Append("<div class=\"numbers\">\n"); numbers(); Text.Append("</div>\n"); }
        foreach (ReportFigure figure in figures)
            Text.Append($"<figure><img{(figure.IsImageGrid ? " class=\"grid\"" : "")} src=\"{E(figure.FileName)}\" width=\"{figure.Width}\" height=\"{figure.Height}\" alt=\"{E(figure.Title)}\">")
                .Append($"<figcaption>{E(figure.Caption)}</figcaption></figure>\n");
        Text.Append("</div>\n");
    }

    public override string ToString() => Text + "</body>\n</html>\n";
}

/// <summary>The page as Markdown (GitHub's dialect: pipe tables, right-aligned number columns).</summary>
public sealed class MarkdownPage : Page
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

    public override void Section(string heading, IReadOnlyList<ReportFigure> figures, Action? numbers)
    {
        if (figures.Count == 0 && numbers is null) return;
        Text.Append("## ").Append(heading).Append("\n\n");
        numbers?.Invoke();
        foreach (ReportFigure figure in figures)
            Text.Append($"![{figure.Title}]({figure.FileName})\n\n*{figure.Caption}*\n\n");
    }
}
