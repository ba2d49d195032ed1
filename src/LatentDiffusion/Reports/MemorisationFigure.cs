using System.Globalization;
using LatentDiffusion.Metrics;

namespace LatentDiffusion.Reports;

/// <summary>
/// The closest (generated, training) pairs of a memorisation check side by side, so a reader sees whether the model
/// copies: per pair the generated digit, its nearest training image in feature space (caption: the feature distance)
/// and its nearest training image in pixel space (caption: the RMS pixel difference in [0, 1]; 0 is a copy).
/// Four pairs a row, each digit cropped to MNIST's 28x28 and shown at 56x56.
/// </summary>
public static class MemorisationFigure
{
    const int PairsPerRow = 4, Side = 28, Padding = 2;

    public static RenderedFigure Render(MemorisationResult result, ImageFeatures generated, ImageFeatures training, string title = "")
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(training);
        IReadOnlyList<NearestPair> pairs = result.Closest;
        if (pairs.Count == 0) throw new ArgumentException("no pairs to draw", nameof(result));
        ImageGridSpec spec = Spec(result, title);
        int columns = spec.Columns;
        var cells = new GrayImage?[spec.Rows * columns];
        var captions = new string?[spec.Rows * columns];
        for (int p = 0; p < pairs.Count; p++)
        {
            NearestPair pair = pairs[p];
            int cell = p / PairsPerRow * columns + p % PairsPerRow * 3;
            int pixelNearest = result.PixelNearest[pair.Generated];
            cells[cell] = Crop(generated.Pixels, pair.Generated);
            cells[cell + 1] = Crop(training.Pixels, pair.Training);
            cells[cell + 2] = Crop(training.Pixels, pixelNearest);
            captions[cell] = $"#{pair.Generated}";
            captions[cell + 1] = string.Create(CultureInfo.InvariantCulture, $"f {pair.Distance:F2}");
            captions[cell + 2] = string.Create(CultureInfo.InvariantCulture, $"px {RmsPixel(result.PixelDistance[pair.Generated]):F3}");
        }
        return ImageGrid.Render(spec, cells, captions);
    }

    /// <summary>The grid <see cref="Render"/> draws: 3 cells a pair, <see cref="PairsPerRow"/> pairs a row, the threshold in the subtitle.</summary>
    internal static ImageGridSpec Spec(MemorisationResult result, string title = "")
    {
        int pairs = result.Closest.Count;
        int rows = (pairs + PairsPerRow - 1) / PairsPerRow, columns = 3 * Math.Min(PairsPerRow, pairs);
        string subtitle = string.Create(CultureInfo.InvariantCulture,
            $"per triple: generated · nearest training image in features (f) · in pixels (px, RMS); memorised: f < {result.Threshold:F3} (held-out {result.Percentile:G}% quantile): {result.MemorisedFraction:P2}");
        return new ImageGridSpec(title.Length > 0 ? title : "Closest generated digits and their nearest training images", rows, columns, 56, 56)
        {
            Subtitle = subtitle,
            Captions = true,
            Gap = 3,
        };
    }

    /// <summary>‖Δ‖ over 32·32 pixels in [0, 1] → the root-mean-square pixel difference.</summary>
    /// <summary>A pixel-space distance (Euclidean, [0, 1] intensities, 32x32) as the RMS pixel difference.</summary>
    public static double RmsPixel(double distance) => distance / Math.Sqrt(ImageFeatures.ImageBytes);

    /// <summary>Image <paramref name="index"/> of (N, 32, 32) bytes without the 2-pixel padding.</summary>
    static GrayImage Crop(byte[] pixels, int index)
    {
        var crop = new byte[Side * Side];
        int offset = index * ImageFeatures.ImageBytes;
        for (int r = 0; r < Side; r++)
            pixels.AsSpan(offset + (r + Padding) * 32 + Padding, Side).CopyTo(crop.AsSpan(r * Side));
        return new GrayImage(Side, Side, crop);
    }
}
