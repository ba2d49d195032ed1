using LatentDiffusion.Reports;
using SkiaSharp;

namespace LatentDiffusion.Tests.Reports;

public class ImageGridTests
{
    [Fact]
    public void Render_DigitIsUprightAndNotMirrored()
    {
        // A bright 4×4 block in the top-right corner (rows 0-3, columns 24-27) must land top-right in the figure.
        var pixels = new byte[28 * 28];
        for (int r = 0; r < 4; r++)
            for (int c = 24; c < 28; c++)
                pixels[r * 28 + c] = 255;
        var spec = new ImageGridSpec("orientation", 1, 1, 28 * 3, 28 * 3);
        RenderedFigure figure = ImageGrid.Render(spec, [new GrayImage(28, 28, pixels)]);
        (int x, int y) = ImageGrid.Measure(spec).CellOrigin(0, 0);

        using SKBitmap bitmap = SKBitmap.Decode(figure.Png);
        Assert.Equal(255, bitmap.GetPixel(x + 26 * 3 + 1, y + 1 * 3 + 1).Red);   // top-right: the block
        Assert.Equal(0, bitmap.GetPixel(x + 1 * 3 + 1, y + 1 * 3 + 1).Red);      // top-left: ink-free
        Assert.Equal(0, bitmap.GetPixel(x + 26 * 3 + 1, y + 26 * 3 + 1).Red);    // bottom-right: ink-free
    }

    [Fact]
    public void Render_ScalesWithNearestNeighbour()
    {
        // A 2×2 checkerboard magnified 24× must stay four flat squares: no interpolated gray anywhere in the cell.
        var spec = new ImageGridSpec("checkerboard", 1, 1, 48, 48);
        RenderedFigure figure = ImageGrid.Render(spec, [new GrayImage(2, 2, [0, 255, 255, 0])]);
        (int x, int y) = ImageGrid.Measure(spec).CellOrigin(0, 0);

        using SKBitmap bitmap = SKBitmap.Decode(figure.Png);
        for (int dy = 0; dy < 48; dy++)
            for (int dx = 0; dx < 48; dx++)
            {
                byte expected = (dx < 24) == (dy < 24) ? (byte)0 : (byte)255;
                Assert.Equal(expected, bitmap.GetPixel(x + dx, y + dy).Red);
            }
    }

    [Fact]
    public void Render_SizeMatchesLayoutAndTitleIsDrawn()
    {
        var spec = new ImageGridSpec("A title wider than the grid itself", 2, 3, 20, 20)
        {
            Subtitle = "subtitle",
            RowLabels = ["a", "b"],
            ColumnLabels = ["0", "1", "2"],
            Captions = true,
        };
        var cells = Enumerable.Repeat<GrayImage?>(new GrayImage(1, 1, [128]), 6).ToArray();
        RenderedFigure figure = ImageGrid.Render(spec, cells, ["1 → 2", null, "x", "y", "z", "w"]);
        ImageGrid.GridLayout layout = ImageGrid.Measure(spec);

        using SKBitmap bitmap = SKBitmap.Decode(figure.Png);
        Assert.Equal((layout.Width, layout.Height), (bitmap.Width, bitmap.Height));
        Assert.Equal((layout.Width, layout.Height), (figure.Width, figure.Height));
        // The title band (above the grid) holds dark text pixels: the embedded font rendered.
        int dark = 0;
        for (int py = 0; py < layout.Top - 20; py++)
            for (int px = 0; px < bitmap.Width; px++)
                if (bitmap.GetPixel(px, py).Red < 100) dark++;
        Assert.True(dark > 50, $"only {dark} dark pixels in the title band");
    }

    [Fact]
    public void Render_WrongCellCount_Throws()
    {
        var spec = new ImageGridSpec("t", 2, 2, 10, 10);
        Assert.Throws<ArgumentException>(() => ImageGrid.Render(spec, [null, null, null]));
    }

    [Fact]
    public void EmbeddedFont_IsDejaVuSansWithGlyphs()
    {
        using SKTypeface regular = ReportFonts.CreateTypeface();
        using SKTypeface bold = ReportFonts.CreateTypeface(bold: true);
        Assert.Equal(ReportFonts.Family, regular.FamilyName);
        Assert.True(bold.IsBold);
        Assert.True(regular.ContainsGlyphs("→ |Φ(x − μ)/σ|√"));
    }
}
