using System.Globalization;
using System.Runtime.InteropServices;
using LatentDiffusion.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// Images of any dataset's shape (N, C, S, S) in [0, 1], C = 1 or 3, as <see cref="ImageOutput"/> writes them when they
/// are not MNIST digits: a folder of S x S PNGs (gray or RGB, uncropped), one grid PNG (2-px white gaps), or the array
/// as <c>.npz</c>. Pixels are clipped to [0, 1] and rounded to bytes.
/// </summary>
public static class ImageTiles
{
    const int Gap = 2;

    public static string Write(Tensor images, string path, int? gridColumns = null)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new ArgumentException($"expected (N, 1|3, S, S) images, got [{string.Join(", ", images.shape)}]");
        int n = (int)images.shape[0], c = (int)images.shape[1], side = (int)images.shape[2];
        byte[] bytes = Bytes(images);
        int imageBytes = c * side * side;
        switch (ImageOutput.Kind(path))
        {
            case "npz":
                using (Tensor cpu = images.detach().cpu().to_type(ScalarType.Float64).contiguous())
                    Npz.Save(path, new Dictionary<string, NpyArray> { ["images"] = new([n, c, side, side], cpu.data<double>().ToArray()) });
                return $"{n} images as a float64 array (N, {c}, {side}, {side}), key 'images'";
            case "grid":
                int columns = gridColumns ?? DigitGrid.DefaultColumns(n);
                int rows = (n + columns - 1) / columns;
                int width = columns * (side + Gap) + Gap, height = rows * (side + Gap) + Gap;
                var rgba = new byte[width * height * 4];
                Array.Fill(rgba, (byte)255);
                for (int i = 0; i < n; i++)
                    Blit(bytes.AsSpan(i * imageBytes, imageBytes), c, side, rgba, width, Gap + i % columns * (side + Gap), Gap + i / columns * (side + Gap));
                AtomicFile.WriteAllBytes(path, Png(rgba, width, height));
                return $"a {rows}x{columns} grid of {n} images";
            default:
                int digits = Math.Max(5, n.ToString(CultureInfo.InvariantCulture).Length);
                AtomicFile.WriteDirectory(path, add =>
                {
                    var tile = new byte[side * side * 4];
                    for (int i = 0; i < n; i++)
                    {
                        Blit(bytes.AsSpan(i * imageBytes, imageBytes), c, side, tile, side, 0, 0);
                        add(i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png", Png(tile, side, side));
                    }
                });
                return $"{n} PNGs of {side}x{side} ({(c == 1 ? "gray" : "RGB")})";
        }
    }

    /// <summary>(N, C, S, S) in [0, 1] → bytes, planar, clipped and rounded.</summary>
    static byte[] Bytes(Tensor images)
    {
        using var scope = NewDisposeScope();
        Tensor b = images.detach().cpu().to_type(ScalarType.Float32).clamp(0, 1).mul(255).round().to_type(ScalarType.Byte).contiguous();
        return b.data<byte>().ToArray();
    }

    /// <summary>One planar (C, S, S) image into an RGBA canvas of <paramref name="width"/> at (x0, y0).</summary>
    static void Blit(ReadOnlySpan<byte> image, int channels, int side, byte[] rgba, int width, int x0, int y0)
    {
        int plane = side * side;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                int q = y * side + x, p = 4 * ((y0 + y) * width + x0 + x);
                rgba[p] = image[q];
                rgba[p + 1] = channels == 3 ? image[plane + q] : image[q];
                rgba[p + 2] = channels == 3 ? image[2 * plane + q] : image[q];
                rgba[p + 3] = 255;
            }
    }

    static byte[] Png(byte[] rgba, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
