using System.Globalization;
using System.Runtime.InteropServices;
using LatentDiffusion.IO;
using SkiaSharp;

namespace LatentDiffusion.Data;

/// <summary>
/// The RGB test bed: an MNIST-layout set redrawn in colour as a labelled image folder (train/ and test/, class folders
/// 0..9, one 32x32 RGB PNG per digit). The rule, per image, from a <see cref="Random"/> seeded with the seed (train) and
/// seed + 1 (test), one draw per image in file order: a hue h ~ U[0, 1); the digit's colour is HSV(h, 0.9, 1), the
/// background HSV(h + ½, 0.6, 0.25) — the opposite hue, dark — and each pixel mixes them by the digit's intensity,
/// background + (digit − background)·p/255. The 28x28 digit is centred on a 32x32 background (the series' padding), so
/// the folder loads at 32 px without resizing. Written with <see cref="AtomicFile.WriteDirectory"/>: the whole folder or
/// nothing.
/// </summary>
public static class ColoredMnist
{
    public const double DigitSaturation = 0.9, DigitValue = 1.0, BackgroundSaturation = 0.6, BackgroundValue = 0.25;
    const int Side = 32, Pad = 2;

    /// <summary>Writes <paramref name="source"/> (at most <paramref name="limit"/> images of each split) as a colour folder at <paramref name="outDirectory"/>; returns the counts.</summary>
    public static (int Train, int Test) Write(MnistData source, string outDirectory, int seed = 0, int? limit = null)
    {
        if (limit is <= 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "must be positive");
        int train = Math.Min(source.Train.Count, limit ?? int.MaxValue), test = Math.Min(source.Test.Count, limit ?? int.MaxValue);
        AtomicFile.WriteDirectory(outDirectory, add =>
        {
            WriteSplit(source.Train, train, ImageFolderListing.TrainFolder, new Random(seed), add);
            WriteSplit(source.Test, test, ImageFolderListing.TestFolder, new Random(seed + 1), add);
        });
        return (train, test);
    }

    static void WriteSplit(MnistSplit split, int count, string folder, Random rng, Action<string, byte[]> add)
    {
        if (split.Images.Rows != 28 || split.Images.Cols != 28) throw new ArgumentException($"expected 28x28 digits, got {split.Images.Rows}x{split.Images.Cols}");
        var rgba = new byte[Side * Side * 4];
        int digits = Math.Max(5, count.ToString(CultureInfo.InvariantCulture).Length);
        for (int i = 0; i < count; i++)
        {
            Colour(split.Images.Pixels.AsSpan(i * 784, 784), rng.NextDouble(), rgba);
            string name = $"{folder}/{split.Labels[i]}/{i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0')}.png";
            add(name, EncodePng(rgba));
        }
    }

    /// <summary>One digit (28x28 intensities) in colour at hue <paramref name="hue"/>: (32, 32) RGBA, opaque.</summary>
    public static void Colour(ReadOnlySpan<byte> digit, double hue, byte[] rgba)
    {
        var (fr, fg, fb) = Hsv(hue, DigitSaturation, DigitValue);
        var (br, bg, bb) = Hsv(hue + 0.5, BackgroundSaturation, BackgroundValue);
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                bool inside = y >= Pad && y < Side - Pad && x >= Pad && x < Side - Pad;
                double a = inside ? digit[(y - Pad) * 28 + x - Pad] / 255.0 : 0;
                int p = 4 * (y * Side + x);
                rgba[p] = Mix(br, fr, a);
                rgba[p + 1] = Mix(bg, fg, a);
                rgba[p + 2] = Mix(bb, fb, a);
                rgba[p + 3] = 255;
            }
    }

    static byte Mix(double background, double digit, double a) => (byte)Math.Round(255 * (background + (digit - background) * a));

    /// <summary>HSV → RGB in [0, 1] (hue in turns, taken mod 1).</summary>
    public static (double R, double G, double B) Hsv(double hue, double saturation, double value)
    {
        double h = (hue % 1 + 1) % 1 * 6;
        int sector = (int)Math.Floor(h) % 6;
        double f = h - Math.Floor(h);
        double p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
        return sector switch
        {
            0 => (value, t, p),
            1 => (q, value, p),
            2 => (p, value, t),
            3 => (p, q, value),
            4 => (t, p, value),
            _ => (value, p, q),
        };
    }

    static byte[] EncodePng(byte[] rgba)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
