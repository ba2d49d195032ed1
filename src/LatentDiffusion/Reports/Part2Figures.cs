using System.Globalization;
using LatentDiffusion.Training;
using ScottPlot;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// Part 2's figures, each from tensors or a history to a PNG: the VAE's loss and its two terms, originals over their
/// reconstructions, latents scattered by digit (two raw dimensions, or the 2-D LDA projection) and interpolations
/// between two latents (grids of samples: <see cref="DigitFigures.Tiles"/>). Images are (N, 1, H, W) in [0, 1], drawn
/// as stored: white ink on black, each pixel a sharp square. (The autoencoder's loss curve is <see cref="LossCurve"/>.)
/// </summary>
public static class Part2Figures
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The VAE's loss in two panels, each <paramref name="panelWidth"/> × <paramref name="height"/>: left the total
    /// (reconstruction + KL) for train and validation, right its two terms (train solid with markers, validation dashed).
    /// </summary>
    /// <exception cref="ArgumentException">A logged epoch lacks train_rec, train_kl, val_rec or val_kl (not a VAE history).</exception>
    public static RenderedFigure VaeLoss(IReadOnlyList<EpochLog> history, int panelWidth, int height)
    {
        if (history.Count == 0) throw new ArgumentException("no logged epochs to plot", nameof(history));
        if (!HasVaeTerms(history)) throw new ArgumentException("the history lacks train_rec, train_kl, val_rec or val_kl: not a VAE run", nameof(history));
        double[] epochs = Epochs(history);
        double[] Metric(string name) => history.Select(e => e.Metric(name)).ToArray();
        Plot total = LossCurve.Plot(history, "VAE loss (reconstruction + KL) per logged epoch", "loss per image", "validation (the test images)");
        var palette = new ScottPlot.Palettes.Category10();
        Plot terms = PlotFigures.Curves("Its two terms", "epoch", "per image",
        [
            new PlotFigures.Curve("reconstruction, train", epochs, Metric("train_rec")) { Color = palette.GetColor(2) },
            new PlotFigures.Curve("reconstruction, validation", epochs, Metric("val_rec")) { Color = palette.GetColor(2), Dashed = true, MarkerSize = 0 },
            new PlotFigures.Curve("KL, train", epochs, Metric("train_kl")) { Color = palette.GetColor(3) },
            new PlotFigures.Curve("KL, validation", epochs, Metric("val_kl")) { Color = palette.GetColor(3), Dashed = true, MarkerSize = 0 },
        ]);
        return PlotFigures.Panels([total, terms], gridColumns: 2, panelWidth, height);
    }

    /// <summary>Whether every logged epoch has the VAE's four loss terms.</summary>
    public static bool HasVaeTerms(IReadOnlyList<EpochLog> history) =>
        history.All(e => new[] { "train_rec", "train_kl", "val_rec", "val_kl" }.All(m => double.IsFinite(e.Metric(m))));

    /// <summary>
    /// Two rows: <paramref name="originals"/> (N, 1, H, W) on top, <paramref name="reconstructions"/> (N, 1, H, W)
    /// under them, labelled with <paramref name="rowLabels"/> (the post's figures 4 and 8, 2 × 8).
    /// </summary>
    public static RenderedFigure Reconstructions(Tensor originals, Tensor reconstructions, (string Original, string Reconstruction) rowLabels,
        string title, string? subtitle, int scale)
    {
        GrayImage[] top = GrayImage.FromTensor(originals), bottom = GrayImage.FromTensor(reconstructions);
        if (top.Length != bottom.Length) throw new ArgumentException($"{top.Length} originals but {bottom.Length} reconstructions");
        var spec = new ImageGridSpec(title, 2, top.Length, top[0].Width * scale, top[0].Height * scale)
        {
            Subtitle = subtitle,
            RowLabels = [rowLabels.Original, rowLabels.Reconstruction],
        };
        return ImageGrid.Render(spec, [.. top, .. bottom]);
    }

    /// <summary>
    /// Elements <paramref name="first"/> and <paramref name="second"/> of the flattened latents (N, C, h, w) against each
    /// other, one colour per digit (the post's figure 6).
    /// </summary>
    /// <param name="symbol">The latent's name on the axes, e.g. "z" or "μ": "z[c, y, x]".</param>
    public static RenderedFigure LatentScatter(Tensor latents, IReadOnlyList<byte> labels, int first, int second, string title, int width, int height,
        string symbol = "z")
    {
        long n = latents.shape[0];
        using var scope = NewDisposeScope();
        Tensor flat = latents.reshape(n, -1).to_type(ScalarType.Float64).cpu();          // (N, C·h·w)
        long dims = flat.shape[1];
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(second);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(first, dims);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(second, dims);
        double[] x = flat.select(1, first).contiguous().data<double>().ToArray();
        double[] y = flat.select(1, second).contiguous().data<double>().ToArray();
        return PlotFigures.ClassScatter(x, y, Ints(labels), title, ElementName(latents, first, symbol), ElementName(latents, second, symbol), width, height);
    }

    /// <summary>The first two LDA coordinates, one colour per digit (the post's figures 7 and 10).</summary>
    public static RenderedFigure LdaScatter(LdaProjection projection, IReadOnlyList<byte> labels, string title, int width, int height)
    {
        if (projection.Components.Count < 2) throw new ArgumentException("the scatter needs two LDA components", nameof(projection));
        string Axis(int k) => string.Create(Inv, $"LDA axis {k + 1} ({100 * projection.ExplainedVarianceRatio[k]:F0}% of the between-class variance)");
        return PlotFigures.ClassScatter(projection.Components[0], projection.Components[1], Ints(labels), title, Axis(0), Axis(1), width, height);
    }

    /// <summary>
    /// One row per entry of <paramref name="rows"/>: the start image, the decoded interpolations (K, 1, H, W), one per
    /// value of <paramref name="alphas"/>, and the end image. <paramref name="endpoints"/> (2, 1, H, W) holds the start
    /// and end images, repeated on every row.
    /// </summary>
    public static RenderedFigure Interpolation(Tensor endpoints, IReadOnlyList<(string Label, Tensor Decoded)> rows, IReadOnlyList<double> alphas,
        string title, string? subtitle, int scale)
    {
        GrayImage[] ends = GrayImage.FromTensor(endpoints);
        if (ends.Length != 2) throw new ArgumentException($"{ends.Length} endpoint images; expected the start and the end", nameof(endpoints));
        if (rows.Count == 0) throw new ArgumentException("no rows to draw", nameof(rows));
        int columns = alphas.Count + 2;
        var cells = new List<GrayImage?>();
        foreach (var (label, decoded) in rows)
        {
            GrayImage[] images = GrayImage.FromTensor(decoded);
            if (images.Length != alphas.Count) throw new ArgumentException($"row '{label}' has {images.Length} images for {alphas.Count} values of α", nameof(rows));
            cells.Add(ends[0]);
            cells.AddRange(images);
            cells.Add(ends[1]);
        }
        var spec = new ImageGridSpec(title, rows.Count, columns, ends[0].Width * scale, ends[0].Height * scale)
        {
            Subtitle = subtitle,
            RowLabels = rows.Select(r => r.Label).ToArray(),
            ColumnLabels = ["start", .. alphas.Select(a => "α=" + a.ToString("0.##", Inv)), "end"],
        };
        return ImageGrid.Render(spec, cells);
    }

    /// <summary>"z[c, y, x]" of a flattened index into latents (N, C, h, w).</summary>
    static string ElementName(Tensor latents, int index, string symbol)
    {
        if (latents.dim() != 4) return $"{symbol}[{index}]";
        long h = latents.shape[2], w = latents.shape[3];
        return $"{symbol}[{index / (h * w)}, {index / w % h}, {index % w}]";
    }

    static double[] Epochs(IReadOnlyList<EpochLog> history) => history.Select(e => (double)e.Epoch).ToArray();

    static int[] Ints(IReadOnlyList<byte> labels) => labels.Select(l => (int)l).ToArray();
}
