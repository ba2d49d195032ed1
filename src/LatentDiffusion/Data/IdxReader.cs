using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>An IDX images file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Cols"/> uint8 pixels, row-major.</summary>
public sealed record IdxImages(string Path, int Count, int Rows, int Cols, byte[] Pixels)
{
    /// <summary>SHA-256 (lowercase hex) of the file's uncompressed content, header included; empty if not computed.</summary>
    public string Sha256 { get; init; } = "";
}

/// <summary>An IDX labels file: one uint8 class per item.</summary>
/// <param name="Sha256">SHA-256 (lowercase hex) of the file's uncompressed content, header included.</param>
public sealed record IdxLabels(string Path, byte[] Labels, string Sha256);

/// <summary>
/// Reads IDX files (LeCun's MNIST format), raw or gzip-compressed. The header is read and checked first (magic 0x801
/// labels / 0x803 images, rank, positive sizes, see <see cref="IdxHeader"/>); then the payload, whose length must
/// be exactly what the header implies. A raw file's length is compared with the header before anything is
/// allocated. A gzip file's payload buffer grows by doubling only as real decompressed bytes arrive, so memory is
/// bounded by the real content (at most twice it live, under three times it allocated in all, plus 1 MB) and never
/// by what the header claims. Every failure is a <see cref="DataFormatException"/> naming the file. The SHA-256 of the uncompressed content is computed on the way,
/// so a recompressed copy of a file has the same checksum as the original. Gzip files must be single-member (as
/// gzip(1) and every MNIST mirror write them): the trailer's length is what exposes a file cut short.
/// </summary>
public static class IdxReader
{
    public const int LabelsMagic = 0x00000801;
    public const int ImagesMagic = 0x00000803;

    /// <summary>Upper bound on decompressed content (MNIST's largest file is 47 MB).</summary>
    public const long MaxContentBytes = 1L << 30;

    /// <summary>Upper bound on one image side, far above any IDX image set in use.</summary>
    public const int MaxSide = 4096;

    /// <summary>First size of a gzip payload buffer; it doubles as content arrives, capped at the header's claim.</summary>
    const int InitialBuffer = 1 << 20;

    public static IdxImages ReadImages(string path)
    {
        var (header, pixels, sha256) = Read(path, rank: 3, "images", dims =>
        {
            if (dims[1] > MaxSide || dims[2] > MaxSide)
                throw new DataFormatException(path, $"image size {dims[1]}x{dims[2]} exceeds {MaxSide}x{MaxSide}");
        });
        return new IdxImages(path, header.Dims[0], header.Dims[1], header.Dims[2], pixels) { Sha256 = sha256 };
    }

    public static byte[] ReadLabels(string path, int maxLabel = 9) => ReadLabelsFile(path, maxLabel).Labels;

    /// <summary>Like <see cref="ReadLabels"/>, with the file's path and content checksum.</summary>
    public static IdxLabels ReadLabelsFile(string path, int maxLabel = 9)
    {
        var (_, labels, sha256) = Read(path, rank: 1, "labels", validate: null);
        int bad = Array.FindIndex(labels, l => l > maxLabel);
        if (bad >= 0)
            throw new DataFormatException(path, $"label {labels[bad]} at index {bad} is outside 0-{maxLabel}");
        return new IdxLabels(path, labels, sha256);
    }

    /// <summary>
    /// The file's whole content, decompressed when it starts with the gzip magic (1f 8b); bounded by
    /// <see cref="MaxContentBytes"/>. No IDX checks: for tools that want the bytes.
    /// </summary>
    public static byte[] ReadContent(string path)
    {
        return Guard(path, () =>
        {
            using var file = Open(path);
            bool gzip = IsGzip(file);
            uint? trailerSize = gzip ? ReadGzipTrailerSize(file) : null;
            using Stream content = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[1 << 16];
            int read;
            while ((read = content.Read(chunk)) > 0)
            {
                if (buffer.Length + read > MaxContentBytes)
                    throw new DataFormatException(path, $"decompressed content exceeds {MaxContentBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            if (trailerSize is uint size && size != (uint)buffer.Length)
                throw GzipCutShort(path, size, buffer.Length);
            return buffer.ToArray();
        });
    }

    static (IdxHeader Header, byte[] Payload, string Sha256) Read(string path, int rank, string what, Action<int[]>? validate)
    {
        return Guard(path, () =>
        {
            using var file = Open(path);
            bool gzip = IsGzip(file);
            // gzip's last 4 bytes (ISIZE) hold the content length mod 2^32. .NET's GZipStream checks it only when it
            // reaches the trailer and silently returns a prefix when the file is cut short, so we compare it ourselves.
            uint? trailerSize = gzip ? ReadGzipTrailerSize(file) : null;
            using Stream content = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;

            var header = IdxHeader.Read(path, content, rank, what, MaxContentBytes);
            validate?.Invoke(header.Dims);
            string claim = $"{IdxHeader.Describe(header.Dims)} {what}";
            long expected = header.Length + header.PayloadBytes;
            if (!gzip && file.Length != expected)
                throw LengthMismatch(path, claim, expected, file.Length);

            byte[] payload = gzip
                ? ReadGrowing(path, content, header, claim)
                : ReadExact(content, header.PayloadBytes);
            long trailing = CountRemaining(content);
            if (trailing > 0)
                throw LengthMismatch(path, claim, expected, expected + trailing);
            if (trailerSize is uint size && size != (uint)expected)
                throw GzipCutShort(path, size, expected);

            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            sha.AppendData(header.Bytes);
            sha.AppendData(payload);
            return (header, payload, Convert.ToHexStringLower(sha.GetHashAndReset()));
        });
    }

    /// <summary>Raw file: its length already matches the header, so this allocates exactly the real payload.</summary>
    static byte[] ReadExact(Stream content, long length)
    {
        byte[] payload = new byte[length];
        content.ReadExactly(payload);
        return payload;
    }

    /// <summary>Decompressed payload, grown by doubling as bytes arrive and capped at the header's claim.</summary>
    static byte[] ReadGrowing(string path, Stream content, IdxHeader header, string claim)
    {
        long length = header.PayloadBytes;
        byte[] buffer = new byte[Math.Min(length, InitialBuffer)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            int n = content.Read(buffer, filled, buffer.Length - filled);
            if (n == 0)
                throw LengthMismatch(path, claim, header.Length + length, header.Length + filled);
            filled += n;
        }
        return buffer;
    }

    /// <summary>Bytes left after the payload, counted without storing them (and capped, so a gzip bomb ends).</summary>
    static long CountRemaining(Stream content)
    {
        byte[] scratch = new byte[1 << 16];
        long total = 0;
        int n;
        while (total <= MaxContentBytes && (n = content.Read(scratch)) > 0)
            total += n;
        return total;
    }

    static DataFormatException LengthMismatch(string path, string claim, long expected, long actual) =>
        actual < expected
            ? new DataFormatException(path, $"header claims {claim} ({expected} bytes) but the content is only {actual} bytes (truncated?)")
            : new DataFormatException(path, $"header claims {claim} ({expected} bytes) but the content is {actual} bytes (trailing data)");

    static DataFormatException GzipCutShort(string path, uint trailerSize, long decompressed) =>
        new(path, $"gzip stream is cut short or damaged: its trailer records {trailerSize} content bytes but {decompressed} were " +
                  "decompressed (truncated download, or not a single-member gzip file)");

    static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    /// <summary>ISIZE, the last 4 bytes (little-endian) of a gzip file; 0 for a file too short to hold a trailer.</summary>
    static uint ReadGzipTrailerSize(FileStream file)
    {
        // 10-byte gzip header + 8-byte trailer: anything shorter cannot be whole, and reports a mismatch later.
        if (file.Length < 18) return 0;
        Span<byte> trailer = stackalloc byte[4];
        file.Position = file.Length - 4;
        file.ReadExactly(trailer);
        file.Position = 0;
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }

    /// <summary>Maps every I/O and decompression failure to a <see cref="DataFormatException"/> naming the file.</summary>
    static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataFormatException(path, "file not found", e);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip stream ({e.Message})", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException(path, "content ends early (truncated?)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
    }
}
