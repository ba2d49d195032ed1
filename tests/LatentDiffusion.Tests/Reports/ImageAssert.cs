using SkiaSharp;

namespace LatentDiffusion.Tests.Reports;

/// <summary>Checks on rendered figures.</summary>
internal static class ImageAssert
{
    /// <summary>Variance of (R + G + B) / 3 over every pixel: 0 for a single flat colour.</summary>
    public static double LuminanceVariance(SKBitmap bitmap)
    {
        double sum = 0, sumSq = 0;
        long n = (long)bitmap.Width * bitmap.Height;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                SKColor c = bitmap.GetPixel(x, y);
                double v = (c.Red + c.Green + c.Blue) / 3.0;
                sum += v;
                sumSq += v * v;
            }
        double mean = sum / n;
        return sumSq / n - mean * mean;
    }

    /// <summary>The (width, height) of a PNG, decoded.</summary>
    public static (int Width, int Height) Size(byte[] png)
    {
        using SKBitmap bitmap = SKBitmap.Decode(png) ?? throw new InvalidDataException("not a PNG SkiaSharp can decode");
        return (bitmap.Width, bitmap.Height);
    }
}
