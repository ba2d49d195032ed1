using LatentDiffusion.Metrics;
using LatentDiffusion.Reports;
using LatentDiffusion.Tests.Metrics;
using SkiaSharp;

namespace LatentDiffusion.Tests.Reports;

public sealed class MemorisationFigureTests
{
    /// <summary>16 pairs: 4 rows of 4 triples (generated, feature neighbour, pixel neighbour), each triple's cells the images named.</summary>
    [Fact]
    public void Render_SixteenPairs_FourRowsOfFourTriples()
    {
        PrdcFixture f = PrdcFixture.Load();
        // Image i of each set is flat gray level i % 256, so a cell's colour says which image it shows.
        ImageFeatures gen = MemorisationTests.Set(f.Fake, Levels(f.Fake.Rows));
        ImageFeatures train = MemorisationTests.Set(f.Real, Levels(f.Real.Rows));
        MemorisationResult r = Memorisation.Compute(gen, train, MemorisationTests.Set(f.HeldOut));
        RenderedFigure figure = MemorisationFigure.Render(r, gen, train);
        using SKBitmap bitmap = SKBitmap.Decode(figure.Png);
        Assert.Equal((figure.Width, figure.Height), (bitmap.Width, bitmap.Height));
        ImageGridSpec spec = MemorisationFigure.Spec(r);
        Assert.Equal((4, 12), (spec.Rows, spec.Columns));
        ImageGrid.GridLayout layout = ImageGrid.Measure(spec);
        NearestPair first = r.Closest[0];
        (int x, int y) = layout.CellOrigin(0, 0);
        Assert.Equal(first.Generated % 256, bitmap.GetPixel(x + 28, y + 28).Red);
        (x, y) = layout.CellOrigin(0, 1);
        Assert.Equal(first.Training % 256, bitmap.GetPixel(x + 28, y + 28).Red);
        (x, y) = layout.CellOrigin(0, 2);
        Assert.Equal(r.PixelNearest[first.Generated] % 256, bitmap.GetPixel(x + 28, y + 28).Red);
    }

    [Fact]
    public void Render_NoPairs_Throws()
    {
        PrdcFixture f = PrdcFixture.Load();
        ImageFeatures gen = MemorisationTests.Set(f.Fake), train = MemorisationTests.Set(f.Real);
        MemorisationResult r = Memorisation.Compute(gen, train, train, new MemorisationConfig(ClosestPairs: 0));
        Assert.Throws<ArgumentException>(() => MemorisationFigure.Render(r, gen, train));
    }

    static byte[] Levels(int count)
    {
        var pixels = new byte[count * ImageFeatures.ImageBytes];
        for (int i = 0; i < count; i++) pixels.AsSpan(i * ImageFeatures.ImageBytes, ImageFeatures.ImageBytes).Fill((byte)(i % 256));
        return pixels;
    }
}
