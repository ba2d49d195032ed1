using LatentDiffusion.IO;

namespace LatentDiffusion.Reports;

/// <summary>One figure of a report, written as <see cref="FileName"/> in the report directory.</summary>
/// <param name="IsImageGrid">An image grid (digits, activation maps): a browser should scale it without smoothing.</param>
public sealed record ReportFigure(string FileName, string Title, string Caption, int Width, int Height, bool IsImageGrid = false);

/// <summary>Writes a report's figures into its directory, each through <see cref="AtomicFile"/>, and keeps them in order.</summary>
public sealed class FigureWriter(string directory)
{
    readonly List<ReportFigure> figures = [];

    public string Directory { get; } = directory;

    /// <summary>The figures written so far, in order.</summary>
    public IReadOnlyList<ReportFigure> Figures => figures;

    /// <summary>Writes <paramref name="figure"/> as <paramref name="fileName"/> and records it.</summary>
    public ReportFigure Save(string fileName, RenderedFigure figure, string title, string caption, bool isImageGrid = false)
    {
        AtomicFile.WriteAllBytes(Path.Combine(Directory, fileName), figure.Png);
        var written = new ReportFigure(fileName, title, caption, figure.Width, figure.Height, isImageGrid);
        figures.Add(written);
        return written;
    }

    /// <summary>The figure written as <paramref name="fileName"/>, or null.</summary>
    public ReportFigure? Find(string fileName) => figures.FirstOrDefault(f => f.FileName == fileName);
}
