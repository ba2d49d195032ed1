using LatentDiffusion.IO;
using SkiaSharp;

namespace LatentDiffusion.Onnx;

/// <summary>
/// Images (n, 1, 32, 32) in [0, 1] as PNGs, white digits on black like MNIST, each value v as the gray level
/// round(255·v): one grid (32x32 cells), or a folder of 28x28 PNGs with the 2-pixel padding cropped — the main library's
/// <c>ImageOutput</c> formats, so <c>ldm fid</c> reads the folder. Written with <see cref="AtomicFile"/> (LatentDiffusion.Core).
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
        AtomicFile.WriteAllBytes(path, png.AsSpan());
    }

    /// <summary>
    /// Writes each image as <c>00000.png</c>, … (28x28, the centre of the 32x32 image) into the new folder
    /// <paramref name="path"/> (absent or empty) through <see cref="AtomicFile.WriteDirectory"/>: an interrupted run
    /// leaves no partial folder under that name.
    /// </summary>
    public static void WriteFolder(float[] images, int count, string path)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (images.Length != count * Size * Size) throw new ArgumentException($"{images.Length} values for {count} images of {Size}x{Size}");
        int digits = Math.Max(5, count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        AtomicFile.WriteDirectory(path, add =>
        {
            using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
            for (int k = 0; k < count; k++)
            {
                Span<byte> pixels = bitmap.GetPixelSpan();
                for (int r = 0; r < 28; r++)
                    for (int c = 0; c < 28; c++)
                        pixels[r * bitmap.RowBytes + c] = (byte)Math.Round(255 * Math.Clamp(images[k * Size * Size + (r + 2) * Size + c + 2], 0f, 1f));
                using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                add(k.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png", png.ToArray());
            }
        });
    }
}
