using System.Globalization;
using ScottPlot;

namespace LatentDiffusion.Reports;

/// <summary>
/// Part 1's charts, drawn with ScottPlot 5: the histograms of the first FID features with their fitted normals, the
/// confusion matrix and the histogram of the features' KS distances. Each returns a PNG with its size. (Its image
/// grids are in <see cref="DigitFigures"/>, its loss curve is <see cref="LossCurve"/>.)
/// </summary>
public static class Part1Figures
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

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
        return PlotFigures.Panels(plots, gridColumns, cellWidth, cellHeight, title);
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
        return PlotFigures.Encode(plot, width, height);
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
        return PlotFigures.Encode(plot, width, height);
    }
}
