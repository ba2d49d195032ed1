using SkiaSharp;

namespace LatentDiffusion.Onnx;

/// <summary>
/// Images (n, 1, 32, 32) in [0, 1] as a PNG grid, white digits on black like MNIST, each value v as the gray level
/// round(255·v). Written with <see cref="AtomicWrite"/>.
/// </summary>
public static class DigitImages
{
    public const int Size = 32;

    /// <summary>Writes <paramref name="count"/> images as a grid of <paramref name="columns"/> columns (null: ⌈√n⌉).</summary>
    public static void WriteGrid(float[] images, int count, string path, int? columns = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (images.Length != count * Size * Size) throw new ArgumentException($"{images.Length} values for {count} images of {Size}x{Size}");
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(count));
        int rows = (count + cols - 1) / cols;
        using var bitmap = new SKBitmap(new SKImageInfo(cols * Size, rows * Size, SKColorType.Gray8, SKAlphaType.Opaque));
        Span<byte> pixels = bitmap.GetPixelSpan();
        int stride = bitmap.RowBytes;
        pixels.Clear();
        for (int k = 0; k < count; k++)
        {
            int ox = k % cols * Size, oy = k / cols * Size;
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                    pixels[(oy + y) * stride + ox + x] = (byte)Math.Round(255 * Math.Clamp(images[k * Size * Size + y * Size + x], 0f, 1f));
        }
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        AtomicWrite.Bytes(path, png.AsSpan());
    }
}
