using System.Globalization;
using LatentDiffusion.Training;
using ScottPlot;
using SkiaSharp;

namespace LatentDiffusion.Reports;

/// <summary>
/// The reports' charts, drawn with ScottPlot 5: the loss curves, the histograms of the first FID features, the
/// confusion matrix, the histogram of KS distances and grouped bars. Each returns a PNG with its size; text uses the
/// embedded <see cref="ReportFonts"/>.
/// </summary>
public static class PlotFigures
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Train and validation loss against epoch, one marker per logged epoch.</summary>
    public static RenderedFigure Loss(IReadOnlyList<EpochLog> history, int width, int height)
    {
        if (history.Count == 0) throw new ArgumentException("no logged epochs to plot", nameof(history));
        double[] epochs = history.Select(e => (double)e.Epoch).ToArray();
        using Plot plot = Curves("Classifier cross-entropy loss per logged epoch", "epoch", "cross-entropy loss",
        [
            new Curve("train (mean over the epoch's batches)", epochs, history.Select(e => e.TrainLoss).ToArray()),
            new Curve("validation (whole held-out set)", epochs, history.Select(e => e.ValLoss).ToArray()),
        ]);
        return Encode(plot, width, height);
    }

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

    /// <summary>Lines with markers and a legend in the upper right: the chart under every loss plot. The caller disposes the plot.</summary>
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
    /// A grid of histograms, one per feature in <paramref name="columns"/> (each the feature's values over the
    /// sample), with the fitted normal density scaled to counts drawn over it in red.
    /// </summary>
    public static RenderedFigure FeatureHistograms(
        IReadOnlyList<double[]> columns, IReadOnlyList<FeatureNormalityRow> stats, int gridColumns, int bins,
        int cellWidth, int cellHeight, string title)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridColumns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        if (columns.Count == 0) throw new ArgumentException("no features to plot", nameof(columns));
        if (stats.Count < columns.Count) throw new ArgumentException($"{stats.Count} statistics rows for {columns.Count} features", nameof(stats));
        ReportFonts.Register();
        var plots = new List<Plot>();
        for (int i = 0; i < columns.Count; i++)
        {
            FeatureNormalityRow s = stats[i];
            var plot = new Plot();
            plots.Add(plot);
            double[] values = columns[i];
            var histogram = ScottPlot.Statistics.Histogram.WithBinCount(bins, values);
            plot.Add.Histogram(histogram, Colors.SteelBlue.WithAlpha(0.8));
            if (s.Std > 0)
            {
                // Counts expected in a bin of width w under N(μ, σ²): N · w · φ((x − μ)/σ) / σ.
                double scale = values.Length * histogram.FirstBinSize / (s.Std * Math.Sqrt(2 * Math.PI));
                double[] xs = Enumerable.Range(0, 201).Select(k => histogram.Edges[0] + k * (histogram.Edges[^1] - histogram.Edges[0]) / 200).ToArray();
                double[] ys = xs.Select(x => scale * Math.Exp(-0.5 * Math.Pow((x - s.Mean) / s.Std, 2))).ToArray();
                var fit = plot.Add.ScatterLine(xs, ys, Colors.Red);
                fit.LineWidth = 1.5f;
                fit.MarkerSize = 0;
            }
            plot.Title(string.Create(Inv, $"feature {s.Feature}: skew {s.Skewness:F2}, KS {s.KsDistance:F3}"), size: 12);
            plot.Axes.Bottom.TickLabelStyle.FontSize = 10;
            plot.Axes.Left.TickLabelStyle.FontSize = 10;
            plot.Axes.Margins(bottom: 0);
        }
        return Panels(plots, gridColumns, cellWidth, cellHeight, title);
    }

    /// <summary>
    /// The confusion matrix as a heatmap, rows the true digit (0 at the top), columns the prediction, every cell
    /// labelled with its count. The colour is log(1 + count) so that single errors stand out beside a diagonal of
    /// about a thousand.
    /// </summary>
    public static RenderedFigure Confusion(long[][] confusion, int width, int height)
    {
        int k = confusion.Length;
        if (k == 0 || confusion.Any(row => row.Length != k)) throw new ArgumentException("the confusion matrix must be square and non-empty", nameof(confusion));
        ReportFonts.Register();
        using var plot = new Plot();
        var intensities = new double[k, k];
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++)
                intensities[t, p] = Math.Log(1 + confusion[t][p]);
        // By default ScottPlot draws intensities[0, *] as the top row, unit cells centred on whole coordinates: cell
        // (t, p) is centred on (p, k − 1 − t). (Setting Extent shifts cells by half a cell; checked by eye.)
        var heatmap = plot.Add.Heatmap(intensities);
        heatmap.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues());   // ScottPlot's Blues runs dark → white; 0 should be white
        double max = intensities.Cast<double>().Max();
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++)
            {
                var label = plot.Add.Text(confusion[t][p].ToString(Inv), p, k - 1 - t);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 13;
                label.LabelBold = t == p;
                label.LabelFontColor = intensities[t, p] > 0.6 * max ? Colors.White : Colors.Black;
            }
        double[] positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, positions.Select(p => p.ToString(Inv)).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, positions.Select(p => (k - 1 - p).ToString(Inv)).ToArray());
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.Title("Confusion matrix on the test set (colour: log(1 + count))");
        plot.XLabel("predicted digit");
        plot.YLabel("true digit");
        plot.HideGrid();
        return Encode(plot, width, height);
    }

    /// <summary>Histogram of the features' KS distances, with their median and Lilliefors' 5 % critical value marked.</summary>
    public static RenderedFigure KsHistogram(IReadOnlyList<double> distances, NormalitySummary summary, int width, int height)
    {
        double[] finite = distances.Where(double.IsFinite).ToArray();
        if (finite.Length == 0) throw new ArgumentException("no finite KS distances to plot", nameof(distances));
        ReportFonts.Register();
        using var plot = new Plot();
        double top = Math.Max(finite.Max(), summary.KsCritical) * 1.05;
        var histogram = ScottPlot.Statistics.Histogram.WithBinCount(30, 0, top);
        histogram.AddRange(finite);
        plot.Add.Histogram(histogram, Colors.SteelBlue.WithAlpha(0.8));
        var median = plot.Add.VerticalLine(summary.MedianKs, 2, Colors.DarkOrange, LinePattern.Dashed);
        median.LegendText = string.Create(Inv, $"median {summary.MedianKs:F4}");
        var critical = plot.Add.VerticalLine(summary.KsCritical, 2, Colors.Red);
        critical.LegendText = string.Create(Inv, $"Lilliefors 5% critical value 0.886/√N = {summary.KsCritical:F4} (N = {summary.SampleSize})");
        plot.Title("Kolmogorov–Smirnov distance of each FID feature to its fitted normal");
        plot.XLabel("KS distance sup |F_n(x) − Φ((x − μ)/σ)|");
        plot.YLabel($"features (of {finite.Length})");
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        return Encode(plot, width, height);
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
