using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace LatentDiffusion.Reports;

/// <summary>
/// The reports' shared charts, drawn with ScottPlot 5: lines with a legend (<see cref="Curves"/>, under every loss
/// curve), points coloured by class, grouped bars, and plots arranged side by side. Each figure returns a PNG with its
/// size; text uses the embedded <see cref="ReportFonts"/>. Part 1's own charts are in <see cref="Part1Figures"/>.
/// </summary>
public static class PlotFigures
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One line of <see cref="Curves"/>: a legend label and its points, in the palette's next colour unless <see cref="Color"/> is set.</summary>
    public sealed record Curve(string Label, double[] X, double[] Y)
    {
        public Color? Color { get; init; }

        public bool Dashed { get; init; }

        /// <summary>Marker diameter in pixels; 0 draws the line alone. Default 5.</summary>
        public float MarkerSize { get; init; } = 5;

        /// <summary>Line width in pixels; null keeps ScottPlot's (1, or 2 when <see cref="Dashed"/>).</summary>
        public float? LineWidth { get; init; }
    }

    /// <summary>Lines with markers and a legend in the upper right: the chart under every <see cref="LossCurve"/>. The caller disposes the plot.</summary>
    public static Plot Curves(string title, string xLabel, string yLabel, IReadOnlyList<Curve> curves)
    {
        if (curves.Count == 0) throw new ArgumentException("no curves to plot", nameof(curves));
        ReportFonts.Register();
        var plot = new Plot();
        foreach (Curve curve in curves)
        {
            if (curve.X.Length != curve.Y.Length) throw new ArgumentException($"'{curve.Label}' has {curve.X.Length} x and {curve.Y.Length} y values", nameof(curves));
            var line = curve.Color is { } color ? plot.Add.ScatterLine(curve.X, curve.Y, color) : plot.Add.ScatterLine(curve.X, curve.Y);
            line.LegendText = curve.Label;
            line.MarkerSize = curve.MarkerSize;
            if (curve.Dashed)
            {
                line.LinePattern = LinePattern.Dashed;
                line.LineWidth = 2;
            }
            if (curve.LineWidth is { } lineWidth) line.LineWidth = lineWidth;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>
    /// Points coloured by class (Category10, the matplotlib default the post's scatter plots use), one colour per
    /// distinct label in increasing order, with a legend of the labels in a row under the chart.
    /// </summary>
    public static RenderedFigure ClassScatter(double[] x, double[] y, IReadOnlyList<int> labels, string title, string xLabel, string yLabel,
        int width, int height, float markerSize = 3)
    {
        if (x.Length != y.Length || x.Length != labels.Count) throw new ArgumentException($"{x.Length} x, {y.Length} y and {labels.Count} labels");
        if (x.Length == 0) throw new ArgumentException("no points to plot", nameof(x));
        ReportFonts.Register();
        using var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int[] classes = labels.Distinct().Order().ToArray();
        for (int k = 0; k < classes.Length; k++)
        {
            int[] members = Enumerable.Range(0, x.Length).Where(i => labels[i] == classes[k]).ToArray();
            Color color = palette.GetColor(k);
            var points = plot.Add.ScatterPoints(members.Select(i => x[i]).ToArray(), members.Select(i => y[i]).ToArray(), color.WithAlpha(0.7));
            points.MarkerSize = markerSize;
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = classes[k].ToString(Inv),
                MarkerShape = MarkerShape.FilledCircle,
                MarkerSize = 12,
                MarkerFillColor = color,
                MarkerLineColor = color,
            });
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.ShowLegend(Edge.Bottom);
        return Encode(plot, width, height);
    }

    /// <summary>
    /// Plots side by side, <paramref name="gridColumns"/> to a row, each rendered on its own <paramref name="cellWidth"/> ×
    /// <paramref name="cellHeight"/> surface, under an optional bold title. The plots are disposed.
    /// </summary>
    public static RenderedFigure Panels(IReadOnlyList<Plot> plots, int gridColumns, int cellWidth, int cellHeight, string? title = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridColumns);
        if (plots.Count == 0) throw new ArgumentException("no plots to arrange", nameof(plots));
        ReportFonts.Register();
        int gridRows = (plots.Count + gridColumns - 1) / gridColumns;
        const int titleBand = 44;
        int top = title is null ? 0 : titleBand;
        int width = gridColumns * cellWidth, height = top + gridRows * cellHeight;

        using SKSurface surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}x{height} surface");
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        if (title is not null)
        {
            using SKTypeface bold = ReportFonts.CreateTypeface(bold: true);
            using var font = new SKFont(bold, 18);
            using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            canvas.DrawText(title, width / 2f, 30, SKTextAlign.Center, font, ink);
        }
        for (int i = 0; i < plots.Count; i++)
        {
            using Plot plot = plots[i];
            // Each subplot on its own surface: Plot.Render(canvas, rect) clears the whole canvas first.
            using SKSurface cell = SKSurface.Create(new SKImageInfo(cellWidth, cellHeight, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException($"SkiaSharp could not create a {cellWidth}x{cellHeight} surface");
            plot.Render(cell);
            using SKImage rendered = cell.Snapshot();
            canvas.DrawImage(rendered, i % gridColumns * cellWidth, top + i / gridColumns * cellHeight);
        }

        using SKImage snapshot = surface.Snapshot();
        using SKData png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return new RenderedFigure(png.ToArray(), width, height);
    }

    /// <summary>
    /// A grouped bar chart: one group per category on the x-axis, one bar per series in each group, side by side in
    /// the series' order (Category10 colours), with a legend of the series in a row under the chart.
    /// </summary>
    public static RenderedFigure GroupedBars(IReadOnlyList<string> categories, IReadOnlyList<(string Label, double[] Values)> series,
        string title, string xLabel, string yLabel, int width, int height)
    {
        if (categories.Count == 0) throw new ArgumentException("no categories to plot", nameof(categories));
        if (series.Count == 0) throw new ArgumentException("no series to plot", nameof(series));
        foreach (var (label, values) in series)
            if (values.Length != categories.Count) throw new ArgumentException($"'{label}' has {values.Length} values for {categories.Count} categories", nameof(series));
        ReportFonts.Register();
        using var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double barWidth = 0.8 / series.Count;                                  // a group fills 0.8 of the unit between categories
        for (int s = 0; s < series.Count; s++)
        {
            double offset = (s - (series.Count - 1) / 2.0) * barWidth;
            double[] positions = Enumerable.Range(0, categories.Count).Select(k => k + offset).ToArray();
            var bars = plot.Add.Bars(positions, series[s].Values);
            bars.Color = palette.GetColor(s);
            bars.LegendText = series[s].Label;
            foreach (Bar bar in bars.Bars) bar.Size = barWidth;
        }
        double[] ticks = Enumerable.Range(0, categories.Count).Select(k => (double)k).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, categories.ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.ShowLegend(Edge.Bottom);
        return Encode(plot, width, height);
    }

    internal static RenderedFigure Encode(Plot plot, int width, int height) =>
        new(plot.GetImageBytes(width, height, ImageFormat.Png), width, height);
}
