using SkiaSharp;

namespace LatentDiffusion.Reports;

/// <summary>A figure encoded as PNG, with its pixel size.</summary>
public sealed record RenderedFigure(byte[] Png, int Width, int Height);

/// <summary>
/// What an image grid shows: a title, an optional subtitle, <see cref="Rows"/> × <see cref="Columns"/> cells of
/// <see cref="CellWidth"/> × <see cref="CellHeight"/> pixels, optional row and column labels, and an optional caption
/// under every cell.
/// </summary>
public sealed record ImageGridSpec(string Title, int Rows, int Columns, int CellWidth, int CellHeight)
{
    public string? Subtitle { get; init; }

    /// <summary>One label per row, drawn left of it (e.g. the digit).</summary>
    public IReadOnlyList<string>? RowLabels { get; init; }

    /// <summary>One label per column, drawn above it (e.g. the channel).</summary>
    public IReadOnlyList<string>? ColumnLabels { get; init; }

    /// <summary>Reserve a caption line under every cell.</summary>
    public bool Captions { get; init; }

    /// <summary>Pixels between cells. Default 4.</summary>
    public int Gap { get; init; } = 4;
}

/// <summary>
/// Draws grayscale (or RGB) images into a titled grid with SkiaSharp and encodes it as PNG. Each image is scaled to its cell
/// with nearest-neighbour sampling, so every source pixel stays a sharp square (MNIST is 28×28; a 2×2 activation
/// map must not blur into a gradient). Row r, column c of an image is drawn at y = r, x = c: upright, not mirrored.
/// </summary>
public static class ImageGrid
{
    const int Margin = 16, TitleSize = 20, SubtitleSize = 13, LabelSize = 15, CaptionSize = 12;

    /// <summary>Where things go: the figure's size and the top-left pixel of cell (0, 0); cells repeat at the pitches.</summary>
    public sealed record GridLayout(int Width, int Height, int Left, int Top, int ColumnPitch, int RowPitch)
    {
        /// <summary>The top-left pixel of the image in row <paramref name="row"/>, column <paramref name="column"/>.</summary>
        public (int X, int Y) CellOrigin(int row, int column) => (Left + column * ColumnPitch, Top + row * RowPitch);
    }

    /// <summary>
    /// The layout of <paramref name="spec"/>, top to bottom: title, subtitle, column labels, then rows of (cell, caption);
    /// row labels to the left. The grid is centred under a title wider than itself.
    /// </summary>
    public static GridLayout Measure(ImageGridSpec spec)
    {
        using var fonts = new GridFonts(spec);
        int titleBand = TitleSize + 10 + (spec.Subtitle is null ? 0 : SubtitleSize + 8);
        int columnBand = spec.ColumnLabels is null ? 0 : LabelSize + 6;
        int rowLabelWidth = spec.RowLabels is null ? 0 : (int)Math.Ceiling(spec.RowLabels.Max(l => fonts.Label.MeasureText(l))) + 10;
        int captionBand = spec.Captions ? CaptionSize + 6 : 0;
        int gridWidth = spec.Columns * spec.CellWidth + (spec.Columns - 1) * spec.Gap;
        int rowPitch = spec.CellHeight + captionBand + spec.Gap;
        int gridHeight = spec.Rows * rowPitch - spec.Gap;
        float textWidth = Math.Max(fonts.Title.MeasureText(spec.Title), spec.Subtitle is null ? 0 : fonts.Subtitle.MeasureText(spec.Subtitle));
        int width = Math.Max(rowLabelWidth + gridWidth, (int)Math.Ceiling(textWidth)) + 2 * Margin;
        int height = Margin + titleBand + columnBand + gridHeight + Margin;
        int left = (width - rowLabelWidth - gridWidth) / 2 + rowLabelWidth;
        return new GridLayout(width, height, left, Margin + titleBand + columnBand, spec.CellWidth + spec.Gap, rowPitch);
    }

    /// <summary>
    /// Renders <paramref name="cells"/> (row-major, Rows × Columns; null leaves a cell empty). <paramref name="fast"/>
    /// encodes the PNG as 8-bit gray at zlib level 1 (a grid has no colour, so nothing is lost): several times faster to
    /// encode and a little larger, for figures made many times a second (the frames of <c>ldm serve</c>).
    /// </summary>
    public static RenderedFigure Render(ImageGridSpec spec, IReadOnlyList<GrayImage?> cells, IReadOnlyList<string?>? captions = null, bool fast = false) =>
        RenderCells(spec, cells.Count, i => cells[i] is { } image ? ToSkImage(image) : null, captions, fast, colour: false);

    /// <summary>As the gray <see cref="Render(ImageGridSpec, IReadOnlyList{GrayImage?}, IReadOnlyList{string?}?, bool)"/>, for colour cells; <paramref name="fast"/> then encodes RGB at zlib level 1.</summary>
    public static RenderedFigure RenderRgb(ImageGridSpec spec, IReadOnlyList<RgbImage?> cells, IReadOnlyList<string?>? captions = null, bool fast = false) =>
        RenderCells(spec, cells.Count, i => cells[i] is { } image ? ToSkImage(image) : null, captions, fast, colour: true);

    static RenderedFigure RenderCells(ImageGridSpec spec, int cellCount, Func<int, SKImage?> cell, IReadOnlyList<string?>? captions, bool fast, bool colour)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.Columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.CellWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spec.CellHeight);
        if (cellCount != spec.Rows * spec.Columns)
            throw new ArgumentException($"{cellCount} cells for a {spec.Rows}x{spec.Columns} grid", "cells");
        if (spec.RowLabels is { } rl && rl.Count != spec.Rows) throw new ArgumentException($"{rl.Count} row labels for {spec.Rows} rows");
        if (spec.ColumnLabels is { } cl && cl.Count != spec.Columns) throw new ArgumentException($"{cl.Count} column labels for {spec.Columns} columns");
        if (captions is not null && captions.Count != cellCount) throw new ArgumentException($"{captions.Count} captions for {cellCount} cells", nameof(captions));

        GridLayout layout = Measure(spec);
        int width = layout.Width, height = layout.Height, left = layout.Left, top = layout.Top;
        using var fonts = new GridFonts(spec);

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using SKSurface surface = SKSurface.Create(info) ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}x{height} surface");
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var gray = new SKPaint { Color = new SKColor(90, 90, 90), IsAntialias = true };
        using var frame = new SKPaint { Color = new SKColor(170, 170, 170), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };

        canvas.DrawText(spec.Title, width / 2f, Margin + TitleSize, SKTextAlign.Center, fonts.Title, ink);
        if (spec.Subtitle is not null)
            canvas.DrawText(spec.Subtitle, width / 2f, Margin + TitleSize + 8 + SubtitleSize, SKTextAlign.Center, fonts.Subtitle, gray);
        if (spec.ColumnLabels is not null)
            for (int c = 0; c < spec.Columns; c++)
                canvas.DrawText(spec.ColumnLabels[c], left + c * layout.ColumnPitch + spec.CellWidth / 2f, top - 6, SKTextAlign.Center, fonts.Column, gray);

        var nearest = new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None);
        for (int r = 0; r < spec.Rows; r++)
        {
            int y = top + r * layout.RowPitch;
            if (spec.RowLabels is not null)
                canvas.DrawText(spec.RowLabels[r], left - 8, y + spec.CellHeight / 2f + LabelSize / 3f, SKTextAlign.Right, fonts.Label, ink);
            for (int c = 0; c < spec.Columns; c++)
            {
                int x = left + c * layout.ColumnPitch;
                using SKImage? source = cell(r * spec.Columns + c);
                if (source is not null)
                {
                    canvas.DrawImage(source, SKRect.Create(x, y, spec.CellWidth, spec.CellHeight), nearest, null);
                    canvas.DrawRect(SKRect.Create(x - 0.5f, y - 0.5f, spec.CellWidth + 1, spec.CellHeight + 1), frame);   // keeps a white map apart from the page
                }
                if (spec.Captions && captions is not null && captions[r * spec.Columns + c] is { } caption)
                    canvas.DrawText(caption, x + spec.CellWidth / 2f, y + spec.CellHeight + CaptionSize + 2, SKTextAlign.Center, fonts.Caption, ink);
            }
        }

        using SKImage snapshot = surface.Snapshot();
        using SKData png = fast ? FastPng(snapshot, colour) : snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return new RenderedFigure(png.ToArray(), width, height);
    }

    /// <summary>8-bit gray (or opaque RGB for a colour grid) at zlib level 1.</summary>
    static SKData FastPng(SKImage image, bool colour)
    {
        using var target = new SKBitmap(new SKImageInfo(image.Width, image.Height, colour ? SKColorType.Rgba8888 : SKColorType.Gray8, SKAlphaType.Opaque));
        using (SKPixmap converted = target.PeekPixels())
            if (!image.ReadPixels(converted)) throw new InvalidOperationException("SkiaSharp could not convert the grid's pixels");
        using SKPixmap pixels = target.PeekPixels();
        return pixels.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.Sub, 1)) ?? throw new InvalidOperationException("SkiaSharp could not encode the grid");
    }

    /// <summary>An opaque 8-bit gray SkiaSharp image of the same pixels, row 0 at the top.</summary>
    static SKImage ToSkImage(GrayImage image)
    {
        if (image.Pixels.Length != image.Width * image.Height)
            throw new ArgumentException($"{image.Pixels.Length} pixels for a {image.Width}x{image.Height} image", nameof(image));
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        return SKImage.FromPixelCopy(info, image.Pixels, image.Width)
            ?? throw new InvalidOperationException($"SkiaSharp refused a {image.Width}x{image.Height} gray image");
    }

    /// <summary>An opaque SkiaSharp image of the same RGB pixels, row 0 at the top.</summary>
    static SKImage ToSkImage(RgbImage image)
    {
        if (image.Pixels.Length != 3 * image.Width * image.Height)
            throw new ArgumentException($"{image.Pixels.Length} bytes for a {image.Width}x{image.Height} RGB image", nameof(image));
        var rgba = new byte[4 * image.Width * image.Height];
        for (int p = 0; p < image.Width * image.Height; p++)
        {
            rgba[4 * p] = image.Pixels[3 * p];
            rgba[4 * p + 1] = image.Pixels[3 * p + 1];
            rgba[4 * p + 2] = image.Pixels[3 * p + 2];
            rgba[4 * p + 3] = 255;
        }
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        return SKImage.FromPixelCopy(info, rgba, 4 * image.Width)
            ?? throw new InvalidOperationException($"SkiaSharp refused a {image.Width}x{image.Height} RGB image");
    }

    /// <summary>The grid's typefaces and sizes, disposed together.</summary>
    sealed class GridFonts : IDisposable
    {
        readonly SKTypeface regular = ReportFonts.Shared(), bold = ReportFonts.Shared(bold: true);
        public SKFont Title { get; }
        public SKFont Subtitle { get; }
        public SKFont Label { get; }
        public SKFont Column { get; }
        public SKFont Caption { get; }

        public GridFonts(ImageGridSpec spec)
        {
            Title = new SKFont(bold, TitleSize);
            Subtitle = new SKFont(regular, SubtitleSize);
            Label = new SKFont(regular, LabelSize);
            Column = new SKFont(regular, Math.Min(LabelSize, Math.Max(8, spec.CellWidth * 0.45f)));   // 32 narrow columns need small digits
            Caption = new SKFont(regular, CaptionSize);
        }

        public void Dispose()
        {
            foreach (SKFont font in new[] { Title, Subtitle, Label, Column, Caption }) font.Dispose();   // the typefaces are shared
        }
    }
}
