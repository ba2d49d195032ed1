using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// Generated digits (N, 1, 32, 32) in [0, 1] drawn as one grid figure: each digit cropped to MNIST's 28x28 (the 2-pixel
/// padding removed) and shown at 56x56, optionally with a caption under each (e.g. the classifier's reading). The grid
/// PNG of <c>ldm diffusion sample --out X.png</c> and the frames of <c>ldm serve</c>. Images of another dataset's shape
/// — (N, 3, 32, 32) colour, or a side of 64 — are drawn uncropped, in colour when they have three channels, 32-px ones
/// at twice their size.
/// </summary>
public static class DigitGrid
{
    /// <summary>Columns for <paramref name="n"/> digits: one row up to 8, then 8 (12 for the posts' 6x12 grids of 72 and more).</summary>
    public static int DefaultColumns(int n) => n <= 8 ? n : n >= 72 && n % 12 == 0 ? 12 : 8;

    /// <summary>
    /// The grid of <paramref name="images"/> in <paramref name="columns"/> columns (null: <see cref="DefaultColumns"/>).
    /// <paramref name="captions"/> (one per image) are drawn under the digits; <paramref name="captionBand"/> reserves
    /// their line even without captions, so that a grid drawn before the captions are known has the same size as after.
    /// <paramref name="fast"/>: a quickly encoded gray PNG (<see cref="ImageGrid.Render"/>), for frames made while sampling.
    /// <paramref name="title"/> goes above the grid (its band is there, empty, without one).
    /// </summary>
    public static RenderedFigure Render(Tensor images, int? columns = null, IReadOnlyList<string?>? captions = null, bool captionBand = false,
        bool fast = false, string title = "")
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] is not (1 or 3) || images.shape[2] is not (32 or 64) || images.shape[3] != images.shape[2])
            throw new ArgumentException($"expected (N, 1, 32, 32) images (or another dataset's (N, 1|3, 32|64, 32|64)), got [{string.Join(", ", images.shape)}]");
        int n = (int)images.shape[0];
        if (n == 0) throw new ArgumentException("no images", nameof(images));
        if (captions is not null && captions.Count != n) throw new ArgumentException($"{captions.Count} captions for {n} images", nameof(captions));
        int c = columns ?? DefaultColumns(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c);
        int rows = (n + c - 1) / c;
        float[] values = Values(images);
        if (images.shape[1] != 1 || images.shape[2] != 32)
            return RenderUncropped(values, (int)images.shape[1], (int)images.shape[2], n, rows, c, captions, captionBand, fast, title);
        var cells = Enumerable.Range(0, rows * c).Select(i => i < n ? Crop(values, i) : null).ToList();
        var cellCaptions = captions is null ? null : Enumerable.Range(0, rows * c).Select(i => i < n ? captions[i] : null).ToList();
        var spec = new ImageGridSpec(title, rows, c, 56, 56) { Gap = 2, Captions = captionBand || captions is not null };
        return ImageGrid.Render(spec, cells, cellCaptions, fast);
    }

    /// <summary>Another dataset's images (N, C, S, S), whole: gray or RGB cells of S px (2S for S = 32).</summary>
    static RenderedFigure RenderUncropped(float[] values, int channels, int side, int n, int rows, int columns, IReadOnlyList<string?>? captions,
        bool captionBand, bool fast, string title)
    {
        int cell = side <= 32 ? 2 * side : side;
        var spec = new ImageGridSpec(title, rows, columns, cell, cell) { Gap = 2, Captions = captionBand || captions is not null };
        var cellCaptions = captions is null ? null : Enumerable.Range(0, rows * columns).Select(i => i < n ? captions[i] : null).ToList();
        int size = channels * side * side;
        if (channels == 3)
            return ImageGrid.RenderRgb(spec, Enumerable.Range(0, rows * columns).Select(i => i < n ? RgbImage.FromPlanar(values, i, side, side) : null).ToList(), cellCaptions, fast);
        return ImageGrid.Render(spec, Enumerable.Range(0, rows * columns).Select(i => i < n ? GrayImage.FromValues(values.AsSpan(i * size, size), side, side, 0, 1) : null).ToList(),
            cellCaptions, fast);
    }

    /// <summary>The images' pixels as float32, row-major (N·C·S·S).</summary>
    internal static float[] Values(Tensor images)
    {
        using var scope = NewDisposeScope();
        return images.detach().cpu().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
    }

    /// <summary>Image <paramref name="index"/> of <see cref="Values"/> without the padding: 28x28 bytes.</summary>
    internal static GrayImage Crop(float[] values, int index)
    {
        var pixels = new byte[28 * 28];
        int offset = index * 32 * 32;
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++)
                pixels[r * 28 + c] = (byte)Math.Round(255 * Math.Clamp(values[offset + (r + 2) * 32 + c + 2], 0f, 1f));
        return new GrayImage(28, 28, pixels);
    }
}
