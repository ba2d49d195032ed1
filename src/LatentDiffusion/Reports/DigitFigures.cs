using System.Globalization;
using LatentDiffusion.Data;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>The reports' image grids: sample digits, misclassified digits, mean activation maps and tiles of generated digits.</summary>
public static class DigitFigures
{
    /// <summary>
    /// One row per digit 0-9 with <paramref name="perDigit"/> test images of it, chosen at random with
    /// <paramref name="seed"/> (a partial Fisher–Yates shuffle of that digit's indices, digits in order). A digit with
    /// fewer images leaves the rest of its row empty.
    /// </summary>
    public static RenderedFigure Samples(MnistSplit split, int perDigit, int seed, int scale, int classes = 10)
    {
        var random = new Random(seed);
        var cells = new GrayImage?[classes * perDigit];
        for (int digit = 0; digit < classes; digit++)
        {
            int[] indices = Enumerable.Range(0, split.Count).Where(i => split.Labels[i] == digit).ToArray();
            int take = Math.Min(perDigit, indices.Length);
            for (int k = 0; k < take; k++)
            {
                int j = random.Next(k, indices.Length);
                (indices[k], indices[j]) = (indices[j], indices[k]);
                cells[digit * perDigit + k] = Digit(split, indices[k]);
            }
        }
        var spec = new ImageGridSpec("Random test images, one row per digit", classes, perDigit,
            split.Images.Cols * scale, split.Images.Rows * scale)
        {
            Subtitle = string.Create(CultureInfo.InvariantCulture, $"{perDigit} per digit, seed {seed}; {split.Images.Cols}×{split.Images.Rows} pixels shown ×{scale}"),
            RowLabels = Enumerable.Range(0, classes).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray(),
        };
        return ImageGrid.Render(spec, cells);
    }

    /// <summary>
    /// The first <paramref name="max"/> test images whose prediction differs from the label, in test-set order,
    /// captioned "true → predicted". Null when there is none.
    /// </summary>
    public static RenderedFigure? Misclassified(MnistSplit split, int[] predictions, int max, int perRow, int scale)
    {
        if (predictions.Length != split.Count) throw new ArgumentException($"{predictions.Length} predictions for {split.Count} images", nameof(predictions));
        int[] wrong = Enumerable.Range(0, split.Count).Where(i => predictions[i] != split.Labels[i]).ToArray();
        int shown = Math.Min(max, wrong.Length);
        if (shown == 0) return null;
        int columns = Math.Min(perRow, shown);
        int rows = (shown + columns - 1) / columns;
        var cells = new GrayImage?[rows * columns];
        var captions = new string?[rows * columns];
        for (int k = 0; k < shown; k++)
        {
            int i = wrong[k];
            cells[k] = Digit(split, i);
            captions[k] = $"{split.Labels[i]} → {predictions[i]}";
        }
        string subtitle = shown < wrong.Length
            ? $"{wrong.Length} of {split.Count} misclassified; the first {shown} in test-set order, labelled true → predicted"
            : $"all {wrong.Length} of {split.Count} misclassified, labelled true → predicted";
        var spec = new ImageGridSpec("Misclassified test digits", rows, columns, split.Images.Cols * scale, split.Images.Rows * scale)
        {
            Subtitle = subtitle,
            Captions = true,
        };
        return ImageGrid.Render(spec, cells, captions);
    }

    /// <summary>
    /// The mean map of every channel (columns) for every digit (rows). Each channel is scaled on its own, from its
    /// lowest value over all ten digits (black) to its highest (white), so the rows of a column compare digits
    /// directly. Maps are magnified by the whole factor that brings their width closest to <paramref name="cellTarget"/>.
    /// </summary>
    public static RenderedFigure Activations(ActivationMaps maps, string layerName, int cellTarget)
    {
        int scale = Math.Max(1, (int)Math.Round((double)cellTarget / maps.Width));
        var cells = new GrayImage?[maps.Classes * maps.Channels];
        for (int c = 0; c < maps.Channels; c++)
        {
            double low = double.PositiveInfinity, high = double.NegativeInfinity;
            for (int d = 0; d < maps.Classes; d++)
                foreach (float v in maps.Map(d, c))
                    if (!float.IsNaN(v)) { low = Math.Min(low, v); high = Math.Max(high, v); }
            for (int d = 0; d < maps.Classes; d++)
                cells[d * maps.Channels + c] = maps.CountPerClass[d] == 0 ? null : GrayImage.FromValues(maps.Map(d, c), maps.Width, maps.Height, low, high);
        }
        string shape = $"{maps.Channels}×{maps.Height}×{maps.Width}";
        var spec = new ImageGridSpec($"Layer {maps.Layer} ({layerName}, {shape}): mean activation per digit", maps.Classes, maps.Channels,
            maps.Width * scale, maps.Height * scale)
        {
            Subtitle = $"rows: digits 0-9 (mean over the test images of each); columns: channels 0-{maps.Channels - 1}, each scaled from its min (black) to max (white)",
            RowLabels = Enumerable.Range(0, maps.Classes).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray(),
            ColumnLabels = Enumerable.Range(0, maps.Channels).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray(),
            Gap = 3,
        };
        return ImageGrid.Render(spec, cells);
    }

    /// <summary>
    /// <paramref name="images"/> (N, 1, H, W) in [0, 1] in rows of <paramref name="columns"/>, in order, each magnified
    /// <paramref name="scale"/> times; the last row may be short (part 2's 4 × 8 samples, part 3's 6 × 12 and its
    /// labelled grids of noised and denoised digits).
    /// </summary>
    public static RenderedFigure Tiles(Tensor images, int columns, string title, string? subtitle, int scale,
        IReadOnlyList<string>? rowLabels = null, IReadOnlyList<string>? columnLabels = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        GrayImage[] cells = GrayImage.FromTensor(images);
        int rows = (cells.Length + columns - 1) / columns;
        var grid = new GrayImage?[rows * columns];
        cells.CopyTo(grid, 0);
        var spec = new ImageGridSpec(title, rows, columns, cells[0].Width * scale, cells[0].Height * scale)
        {
            Subtitle = subtitle,
            RowLabels = rowLabels,
            ColumnLabels = columnLabels,
        };
        return ImageGrid.Render(spec, grid);
    }

    static GrayImage Digit(MnistSplit split, int index) =>
        GrayImage.FromIdx(split.Images.Pixels, index, split.Images.Rows, split.Images.Cols);
}
