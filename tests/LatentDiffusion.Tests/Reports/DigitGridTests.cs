using LatentDiffusion.Reports;
using LatentDiffusion.Sampling;
using LatentDiffusion.Tests.Reports;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

public sealed class DigitGridTests
{
    [Fact]
    public void Render_CaptionBand_HasTheSizeOfTheCaptionedGrid()
    {
        using Tensor images = rand(10, 1, 32, 32);
        var plain = DigitGrid.Render(images);
        var band = DigitGrid.Render(images, captionBand: true);
        var captioned = DigitGrid.Render(images, captions: Enumerable.Range(0, 10).Select(i => $"{i}  99%").ToArray());
        Assert.Equal((band.Width, band.Height), (captioned.Width, captioned.Height));      // frames and the final grid line up
        Assert.Equal(plain.Width, captioned.Width);
        Assert.True(captioned.Height > plain.Height);
        Assert.Equal((captioned.Width, captioned.Height), ImageAssert.Size(captioned.Png));
    }

    [Fact]
    public void Render_Fast_IsTheSamePicture()
    {
        using Tensor images = rand(12, 1, 32, 32);
        string[] captions = Enumerable.Range(0, 12).Select(i => $"{i % 10}  97%").ToArray();
        using var slow = SKBitmap.Decode(DigitGrid.Render(images, captions: captions).Png);
        using var fast = SKBitmap.Decode(DigitGrid.Render(images, captions: captions, fast: true).Png);
        Assert.Equal((slow.Width, slow.Height), (fast.Width, fast.Height));
        for (int y = 0; y < slow.Height; y++)
            for (int x = 0; x < slow.Width; x++)
            {
                SKColor a = slow.GetPixel(x, y), b = fast.GetPixel(x, y);
                Assert.True(a.Red == a.Green && a.Green == a.Blue, "the grid is gray");
                Assert.True(Math.Abs(a.Red - b.Red) <= 1, $"pixel ({x}, {y}): {a} vs {b}");
            }
    }

    [Fact]
    public void Render_DefaultColumns_AreThePosts()
    {
        Assert.Equal(5, DigitGrid.DefaultColumns(5));
        Assert.Equal(8, DigitGrid.DefaultColumns(16));
        Assert.Equal(12, DigitGrid.DefaultColumns(72));
    }

    [Fact]
    public void Render_BadInput_Throws()
    {
        using Tensor wrong = rand(2, 1, 28, 28);
        using Tensor images = rand(2, 1, 32, 32);
        Assert.Throws<ArgumentException>(() => DigitGrid.Render(wrong));
        Assert.Throws<ArgumentException>(() => DigitGrid.Render(images, captions: ["only one"]));
    }

    [Theory]
    [InlineData(3, 64, 64)]
    [InlineData(3, 32, 64)]
    [InlineData(1, 64, 64)]
    public void Render_AnotherDatasetsShape_IsUncroppedInItsColours(int channels, int side, int cell)
    {
        using Tensor images = rand(3, channels, side, side);
        string[] captions = ["red  90%", "green  80%", "blue  70%"];
        RenderedFigure slow = DigitGrid.Render(images, captions: captions);
        RenderedFigure fast = DigitGrid.Render(images, captions: captions, fast: true);
        RenderedFigure band = DigitGrid.Render(images, captionBand: true, fast: true);
        Assert.Equal((slow.Width, slow.Height), (band.Width, band.Height));
        Assert.True(slow.Width >= 3 * cell + 2 * 2 && slow.Width < 3 * cell + 2 * 2 + 64, $"width {slow.Width} for cells of {cell}");
        using var a = SKBitmap.Decode(slow.Png);
        using var b = SKBitmap.Decode(fast.Png);
        Assert.Equal((slow.Width, slow.Height), (b.Width, b.Height));
        bool coloured = false;
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
            {
                SKColor p = a.GetPixel(x, y), q = b.GetPixel(x, y);
                coloured |= p.Red != p.Green || p.Green != p.Blue;
                Assert.True(Math.Abs(p.Red - q.Red) <= 1 && Math.Abs(p.Green - q.Green) <= 1 && Math.Abs(p.Blue - q.Blue) <= 1, $"pixel ({x}, {y}): {p} vs {q}");
            }
        Assert.Equal(channels == 3, coloured);
    }
}
