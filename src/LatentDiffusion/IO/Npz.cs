using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace LatentDiffusion.IO;

/// <summary>A float64 array as numpy stores it: a shape and its values in C (row-major) order.</summary>
public sealed record NpyArray(long[] Shape, double[] Data)
{
    /// <summary>A 1-d array.</summary>
    public static NpyArray Vector(double[] data) => new([data.LongLength], data);
}

/// <summary>
/// Reads and writes numpy <c>.npz</c> archives of float64 arrays: a zip of <c>NAME.npy</c> entries, each an
/// <c>.npy</c> file (format 1.0: magic <c>\x93NUMPY</c>, version, little-endian header length, a Python dict literal
/// header padded to 64 bytes, then the raw values). This is what <c>numpy.savez</c> writes and what pytorch-fid's
/// statistics files (<c>mu</c>, <c>sigma</c>) are. Reading accepts <c>numpy.savez</c> and <c>numpy.savez_compressed</c>
/// files, format versions 1-3, and C or Fortran order; it only accepts little-endian float64 (<c>&lt;f8</c>). Every
/// problem is a <see cref="DataFormatException"/> naming the file.
/// </summary>
public static partial class Npz
{
    /// <summary>Upper bound on one array's payload, far above a 4096x4096 covariance.</summary>
    public const long MaxArrayBytes = 256L << 20;

    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>
    /// Writes the arrays (stored, not deflated, like <c>numpy.savez</c>) and any extra text entries, atomically.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, NpyArray> arrays, IReadOnlyDictionary<string, string>? textEntries = null)
    {
        foreach (var (name, array) in arrays)
        {
            long count = array.Shape.Aggregate(1L, (a, b) => a * b);
            if (count != array.Data.LongLength)
                throw new ArgumentException($"array '{name}': shape [{string.Join(", ", array.Shape)}] holds {count} values, data has {array.Data.LongLength}");
        }
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, array) in arrays)
            {
                using Stream entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                WriteNpy(entry, array);
            }
            foreach (var (name, text) in textEntries ?? new Dictionary<string, string>())
            {
                using Stream entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(Encoding.UTF8.GetBytes(text));
            }
        });
    }

    /// <summary>
    /// Reads the named arrays (each must exist, be float64 and have the rank given in <paramref name="ranks"/>) and
    /// the named optional text entries (null when absent).
    /// </summary>
    public static (Dictionary<string, NpyArray> Arrays, Dictionary<string, string?> Texts) Load(
        string path, IReadOnlyDictionary<string, int> ranks, IReadOnlyCollection<string>? textEntries = null)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "file not found");
        try
        {
            using var file = File.OpenRead(path);
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            var arrays = new Dictionary<string, NpyArray>();
            foreach (var (name, rank) in ranks)
            {
                ZipArchiveEntry? entry = zip.GetEntry(name + ".npy")
                    ?? throw new DataFormatException(path, $"missing array '{name}' (the archive holds: {Holds(names)})");
                arrays[name] = ReadEntry(path, name, entry, rank);
            }
            var texts = new Dictionary<string, string?>();
            foreach (string name in textEntries ?? [])
            {
                ZipArchiveEntry? entry = zip.GetEntry(name);
                texts[name] = entry is null ? null : Encoding.UTF8.GetString(ReadBounded(path, name, entry));
            }
            return (arrays, texts);
        }
        catch (DataFormatException) { throw; }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"not a readable .npz (zip) archive: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException(path, "the archive ends early (truncated?)", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
    }

    /// <summary>One <c>.npy</c> file, format 1.0, little-endian float64, C order.</summary>
    public static void WriteNpy(Stream stream, NpyArray array)
    {
        string shape = array.Shape.Length == 1
            ? $"({array.Shape[0]},)"
            : "(" + string.Join(", ", array.Shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}";
        // numpy pads the header with spaces and a final newline so the data starts at a multiple of 64 bytes.
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        if (header.Length > ushort.MaxValue) throw new ArgumentException("npy header too long for format 1.0");
        Span<byte> prefix = stackalloc byte[10];
        Magic.CopyTo(prefix);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header));
        byte[] buffer = new byte[8 * 4096];
        for (long i = 0; i < array.Data.LongLength; i += 4096)
        {
            int n = (int)Math.Min(4096, array.Data.LongLength - i);
            for (int j = 0; j < n; j++) BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(8 * j), array.Data[i + j]);
            stream.Write(buffer, 0, 8 * n);
        }
    }

    /// <summary>Parses one <c>.npy</c> file's bytes; <paramref name="what"/> names it in error messages.</summary>
    public static NpyArray ParseNpy(string path, string what, ReadOnlySpan<byte> bytes, int expectedRank)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new DataFormatException(path, $"array '{what}' is not an .npy file (bad magic)");
        byte major = bytes[6];
        int headerStart, headerLength;
        switch (major)
        {
            case 1:
                headerStart = 10;
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
                break;
            case 2 or 3:
                if (bytes.Length < 12) throw new DataFormatException(path, $"array '{what}': header is truncated");
                headerStart = 12;
                headerLength = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]));
                break;
            default:
                throw new DataFormatException(path, $"array '{what}': unsupported .npy format version {major}.{bytes[7]}");
        }
        if ((long)headerStart + headerLength > bytes.Length)
            throw new DataFormatException(path, $"array '{what}': header claims {headerLength} bytes but the entry is only {bytes.Length} bytes (truncated?)");
        string header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));

        Match descr = DescrPattern().Match(header);
        if (!descr.Success) throw new DataFormatException(path, $"array '{what}': header has no dtype ('descr')");
        if (descr.Groups[1].Value != "<f8")
            throw new DataFormatException(path, $"array '{what}' has dtype '{descr.Groups[1].Value}'; expected float64 ('<f8')");
        Match order = FortranPattern().Match(header);
        if (!order.Success) throw new DataFormatException(path, $"array '{what}': header has no 'fortran_order'");
        bool fortran = order.Groups[1].Value == "True";
        Match shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success) throw new DataFormatException(path, $"array '{what}': header has no 'shape'");
        long[] shape;
        try
        {
            shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new DataFormatException(path, $"array '{what}': unreadable shape ({shapeMatch.Groups[1].Value})", e);
        }
        if (shape.Length != expectedRank)
            throw new DataFormatException(path, $"array '{what}' has shape ({string.Join(", ", shape)}); expected {expectedRank} dimension(s)");

        long count = 1;
        foreach (long s in shape)
        {
            count *= s;
            if (count * 8 > MaxArrayBytes) throw new DataFormatException(path, $"array '{what}' of shape ({string.Join(", ", shape)}) exceeds {MaxArrayBytes} bytes");
        }
        long payload = bytes.Length - headerStart - headerLength;
        if (payload != count * 8)
            throw new DataFormatException(path,
                $"array '{what}' of shape ({string.Join(", ", shape)}) needs {count * 8} bytes of data but the entry holds {payload} (truncated?)");
        var data = new double[count];
        ReadOnlySpan<byte> raw = bytes[(headerStart + headerLength)..];
        for (long i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(int)(8 * i)..]);
        if (fortran && shape.Length == 2) data = Transpose(data, shape[1], shape[0]);
        else if (fortran && shape.Length > 2)
            throw new DataFormatException(path, $"array '{what}': Fortran order is only supported up to 2 dimensions");
        return new NpyArray(shape, data);
    }

    static NpyArray ReadEntry(string path, string name, ZipArchiveEntry entry, int rank) =>
        ParseNpy(path, name, ReadBounded(path, name, entry), rank);

    /// <summary>The entry's bytes, refusing more than <see cref="MaxArrayBytes"/> whatever the zip directory claims.</summary>
    static byte[] ReadBounded(string path, string name, ZipArchiveEntry entry)
    {
        if (entry.Length > MaxArrayBytes + 4096) throw new DataFormatException(path, $"entry '{name}' is {entry.Length} bytes, larger than allowed");
        using Stream s = entry.Open();
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[1 << 16];
        int read;
        while ((read = s.Read(chunk)) > 0)
        {
            if (buffer.Length + read > MaxArrayBytes + 4096) throw new DataFormatException(path, $"entry '{name}' is larger than allowed");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>(cols, rows) column-major → (rows, cols) row-major; <paramref name="rows"/> x <paramref name="cols"/> is the logical shape.</summary>
    static double[] Transpose(double[] columnMajor, long cols, long rows)
    {
        var result = new double[columnMajor.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                result[r * cols + c] = columnMajor[c * rows + r];
        return result;
    }

    static string Holds(List<string> names) => names.Count == 0 ? "nothing" : string.Join(", ", names);

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
