using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// A batch of decoded images, each 32x32 uint8 row-major, in <see cref="Pixels"/>[0 .. Count·1024). The buffer is
/// reused for the next batch: copy what you need before asking for it.
/// </summary>
public sealed record ImageBatch(byte[] Pixels, int Count)
{
    public const int Side = 32;
    public const int ImageBytes = Side * Side;
}

/// <summary>
/// A folder of digit images (PNG, or any format SkiaSharp decodes), 28x28 or 32x32, grayscale or colour. Colour is
/// reduced to luminance with ITU-R BT.601 weights in the fixed-point form PIL's <c>convert("L")</c> uses, so a
/// grayscale image comes through unchanged; alpha is ignored. A 28x28 image is placed in the middle of a 32x32 zero
/// canvas, which after /255 is exactly the training preprocessing (/255, then 2 px of zero padding). Files are read
/// in ordinal name order, names starting with '.' skipped; any other file that is not a readable image of an
/// accepted size is a <see cref="DataFormatException"/> naming it.
/// </summary>
public static class ImageFolder
{
    /// <summary>Image sides accepted (square images only).</summary>
    public static readonly int[] AcceptedSides = [28, 32];

    /// <summary>The image files of <paramref name="directory"/> in the order they are read; an empty folder is an error.</summary>
    public static IReadOnlyList<string> ListFiles(string directory)
    {
        if (!Directory.Exists(directory)) throw new DataFormatException(directory, "no such directory");
        var files = Directory.EnumerateFiles(directory)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new DataFormatException(directory, "the folder holds no image files");
        return files;
    }

    /// <summary>
    /// Decodes the folder's images <paramref name="batchSize"/> at a time into one reused buffer. Memory stays at
    /// one batch whatever the number of files.
    /// </summary>
    public static IEnumerable<ImageBatch> ReadBatches(string directory, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        IReadOnlyList<string> files = ListFiles(directory);
        return Batches(files, Math.Min(batchSize, files.Count));
    }

    static IEnumerable<ImageBatch> Batches(IReadOnlyList<string> files, int batchSize)
    {
        var pixels = new byte[batchSize * ImageBatch.ImageBytes];
        var rgba = new byte[ImageBatch.ImageBytes * 4];
        for (int start = 0; start < files.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, files.Count - start);
            for (int i = 0; i < count; i++)
                Decode(files[start + i], rgba, pixels.AsSpan(i * ImageBatch.ImageBytes, ImageBatch.ImageBytes));
            yield return new ImageBatch(pixels, count);
        }
    }

    /// <summary>
    /// Decodes one image into <paramref name="destination"/> (32x32 bytes); <paramref name="rgba"/> is scratch space
    /// of at least 32·32·4 bytes.
    /// </summary>
    public static void Decode(string path, byte[] rgba, Span<byte> destination)
    {
        if (destination.Length != ImageBatch.ImageBytes) throw new ArgumentException("destination must hold 32x32 bytes", nameof(destination));
        using ImageDecoder.OpenImage image = ImageDecoder.Open(path);
        int w = image.Header.Width, h = image.Header.Height;
        if (w != h || !AcceptedSides.Contains(w))
            throw new DataFormatException(path, $"image is {w}x{h}; expected 28x28 or 32x32");
        image.DecodeRgba(rgba);

        destination.Clear();
        int offset = (ImageBatch.Side - w) / 2;    // 2 for 28x28: the training padding; 0 for 32x32
        for (int y = 0; y < h; y++)
        {
            Span<byte> row = destination.Slice((y + offset) * ImageBatch.Side + offset, w);
            for (int x = 0; x < w; x++)
            {
                int p = 4 * (y * w + x);
                row[x] = Luminance(rgba[p], rgba[p + 1], rgba[p + 2]);
            }
        }
    }

    /// <summary>L = 0.299 R + 0.587 G + 0.114 B, rounded, in PIL's 16-bit fixed point (<see cref="ImageDecoder.Luminance"/>).</summary>
    public static byte Luminance(byte r, byte g, byte b) => ImageDecoder.Luminance(r, g, b);
}
