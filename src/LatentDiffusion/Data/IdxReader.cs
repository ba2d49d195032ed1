using System.Buffers.Binary;
using System.IO.Compression;
using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>An IDX images file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Cols"/> uint8 pixels, row-major.</summary>
public sealed record IdxImages(string Path, int Count, int Rows, int Cols, byte[] Pixels);

/// <summary>
/// Reads IDX files (LeCun's MNIST format), raw or gzip-compressed. Every check happens before the payload is
/// copied: magic (0x801 labels, 0x803 images), rank, positive sizes, and the file's real length against the
/// length the header implies. Memory use is bounded by the file's real (decompressed) content, never by what the
/// header claims. Every failure is a <see cref="DataFormatException"/> naming the file.
/// </summary>
public static class IdxReader
{
    public const int LabelsMagic = 0x00000801;
    public const int ImagesMagic = 0x00000803;

    /// <summary>Upper bound on decompressed content (MNIST's largest file is 47 MB).</summary>
    public const long MaxContentBytes = 1L << 30;

    /// <summary>Upper bound on one image side, far above any IDX image set in use.</summary>
    public const int MaxSide = 4096;

    public static IdxImages ReadImages(string path)
    {
        byte[] content = ReadContent(path);
        int[] dims = ParseHeader(path, content, ImagesMagic, rank: 3, "images");
        int count = dims[0], rows = dims[1], cols = dims[2];
        if (rows > MaxSide || cols > MaxSide)
            throw new DataFormatException(path, $"image size {rows}x{cols} exceeds {MaxSide}x{MaxSide}");
        long payload = (long)count * rows * cols;
        CheckLength(path, content, 16, payload, $"{count} images of {rows}x{cols}");
        byte[] pixels = content.AsSpan(16, (int)payload).ToArray();
        return new IdxImages(path, count, rows, cols, pixels);
    }

    public static byte[] ReadLabels(string path, int maxLabel = 9)
    {
        byte[] content = ReadContent(path);
        int[] dims = ParseHeader(path, content, LabelsMagic, rank: 1, "labels");
        CheckLength(path, content, 8, dims[0], $"{dims[0]} labels");
        byte[] labels = content.AsSpan(8, dims[0]).ToArray();
        int bad = Array.FindIndex(labels, l => l > maxLabel);
        if (bad >= 0)
            throw new DataFormatException(path, $"label {labels[bad]} at index {bad} is outside 0-{maxLabel}");
        return labels;
    }

    /// <summary>The file's bytes, decompressed when it starts with the gzip magic (1f 8b).</summary>
    public static byte[] ReadContent(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Span<byte> magic = stackalloc byte[2];
            int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            bool gzip = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            if (!gzip)
            {
                if (file.Length > MaxContentBytes)
                    throw new DataFormatException(path, $"file is larger than {MaxContentBytes} bytes");
                byte[] raw = new byte[file.Length];
                file.ReadExactly(raw);
                return raw;
            }
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[1 << 16];
            int read;
            while ((read = gz.Read(chunk)) > 0)
            {
                if (buffer.Length + read > MaxContentBytes)
                    throw new DataFormatException(path, $"decompressed content exceeds {MaxContentBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip stream ({e.Message})", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException(path, "gzip stream ends early (truncated download?)", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
    }

    static int[] ParseHeader(string path, byte[] content, int expectedMagic, int rank, string what)
    {
        if (content.Length < 4)
            throw new DataFormatException(path, $"file is {content.Length} bytes, too short for an IDX header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(content);
        if (magic != expectedMagic)
        {
            string hint = magic == LabelsMagic ? " (this is a labels file)" : magic == ImagesMagic ? " (this is an images file)" : "";
            throw new DataFormatException(path, $"bad magic 0x{magic:x8}: expected 0x{expectedMagic:x8} for IDX {what}{hint}");
        }
        int headerLength = 4 + 4 * rank;
        if (content.Length < headerLength)
            throw new DataFormatException(path, $"file is {content.Length} bytes, too short for the {headerLength}-byte IDX {what} header");
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(4 + 4 * i));
            if (dims[i] <= 0)
                throw new DataFormatException(path, $"dimension {i} of the header is {dims[i]}; sizes must be positive");
        }
        return dims;
    }

    static void CheckLength(string path, byte[] content, int headerLength, long payload, string claim)
    {
        long expected = headerLength + payload;
        if (content.Length < expected)
            throw new DataFormatException(path, $"header claims {claim} ({expected} bytes) but the content is only {content.Length} bytes (truncated?)");
        if (content.Length > expected)
            throw new DataFormatException(path, $"header claims {claim} ({expected} bytes) but the content is {content.Length} bytes (trailing data)");
    }
}
