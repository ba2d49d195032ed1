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
}
