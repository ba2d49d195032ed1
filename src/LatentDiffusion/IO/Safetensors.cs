using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace LatentDiffusion.IO;

/// <summary>
/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header mapping
/// each tensor name to its dtype, shape and byte range, then the raw little-endian data. Reading validates every
/// field against the file's real length before allocating, so a truncated or damaged file is a
/// <see cref="DataFormatException"/>, never a wrong tensor.
/// </summary>
public static class Safetensors
{
    const long MaxHeaderBytes = 100 << 20;

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata));

    /// <summary>
    /// Metadata key holding the SHA-256 of the data section. The format has no checksum of its own, so without it a
    /// flipped bit in a weight would load silently; files from elsewhere lack the key and load unchecked.
    /// </summary>
    public const string Sha256Key = "ldm.data_sha256";

    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>();
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            using Tensor cpu = t.detach().cpu().contiguous();
            byte[] bytes = cpu.bytes.ToArray();
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = DTypeName(cpu.dtype),
                ["shape"] = cpu.shape,
                ["data_offsets"] = new[] { offset, offset + bytes.Length },
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        using (var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
        {
            foreach (byte[] b in blobs) sha.AppendData(b);
            var meta = metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata);
            meta[Sha256Key] = Convert.ToHexStringLower(sha.GetHashAndReset());
            header["__metadata__"] = meta;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        int pad = (8 - json.Length % 8) % 8;   // the format pads the header with spaces to 8-byte alignment
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
        stream.Write(len);
        stream.Write(json);
        for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
        foreach (byte[] b in blobs) stream.Write(b);
    }

    /// <summary>Reads every tensor of the file (on the CPU) and the header's <c>__metadata__</c>.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        byte[] file;
        try { file = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (IOException e) { throw new DataFormatException(path, $"cannot read: {e.Message}", e); }
        return Parse(path, file);
    }

    /// <summary>
    /// The header's <c>__metadata__</c> alone, read without the tensor data: what a model's settings and data record
    /// need. The header must fit the file and be a JSON object; the data's byte ranges and checksum are checked when
    /// the tensors are loaded (<see cref="Load"/>), not here.
    /// </summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        byte[] header;
        try
        {
            using FileStream stream = File.OpenRead(path);
            Span<byte> length = stackalloc byte[8];
            if (stream.ReadAtLeast(length, 8, throwOnEndOfStream: false) < 8)
                throw new DataFormatException(path, $"{stream.Length} bytes: too short for a safetensors file");
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(length);
            if (headerLength > MaxHeaderBytes || 8 + (long)headerLength > stream.Length)
                throw new DataFormatException(path, $"header length {headerLength} does not fit the file's {stream.Length} bytes (truncated or not safetensors)");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        catch (FileNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (DirectoryNotFoundException) { throw new DataFormatException(path, "file not found"); }
        catch (IOException e) { throw new DataFormatException(path, $"cannot read: {e.Message}", e); }
        var metadata = new Dictionary<string, string>();
        try
        {
            JsonElement root = JsonDocument.Parse(header).RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, "header is not a JSON object");
            if (root.TryGetProperty("__metadata__", out JsonElement m))
                foreach (JsonProperty p in m.EnumerateObject()) metadata[p.Name] = p.Value.GetString() ?? "";
        }
        catch (JsonException e) { throw new DataFormatException(path, $"header is not valid JSON ({e.Message})", e); }
        catch (InvalidOperationException e) { throw new DataFormatException(path, $"header's __metadata__ is not a map of strings ({e.Message})", e); }
        return metadata;
    }

    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Parse(string path, byte[] file)
    {
        if (file.Length < 8) throw new DataFormatException(path, $"{file.Length} bytes: too short for a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes || 8 + (long)headerLength > file.Length)
            throw new DataFormatException(path, $"header length {headerLength} does not fit the file's {file.Length} bytes (truncated or not safetensors)");
        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        JsonElement root;
        try { root = JsonDocument.Parse(file.AsMemory(8, (int)headerLength)).RootElement; }
        catch (JsonException e) { throw new DataFormatException(path, $"header is not valid JSON ({e.Message})", e); }
        if (root.ValueKind != JsonValueKind.Object) throw new DataFormatException(path, "header is not a JSON object");

        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
        try
        {
            foreach (JsonProperty p in root.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    foreach (JsonProperty m in p.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                ScalarType type = ParseDType(path, p.Name, p.Value.GetProperty("dtype").GetString());
                long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long[] offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                if (offsets.Length != 2 || shape.Any(d => d < 0))
                    throw new DataFormatException(path, $"tensor '{p.Name}': malformed shape or data_offsets");
                entries.Add((p.Name, type, shape, offsets[0], offsets[1]));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new DataFormatException(path, $"header does not describe tensors as safetensors does ({e.Message})", e);
        }

        // The byte ranges must tile the data section exactly, in order, with no gap, overlap or excess.
        long expectedBegin = 0;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            long elements = e.Shape.Aggregate(1L, (a, d) => checked(a * d));
            long size = checked(elements * ElementSize(e.Type));
            if (e.Begin != expectedBegin || e.End - e.Begin != size)
                throw new DataFormatException(path, $"tensor '{e.Name}': byte range [{e.Begin}, {e.End}) does not match its shape [{string.Join(", ", e.Shape)}] and dtype");
            expectedBegin = e.End;
        }
        if (expectedBegin != dataLength)
            throw new DataFormatException(path, $"data section is {dataLength} bytes but the header describes {expectedBegin} (truncated or trailing data)");

        if (metadata.TryGetValue(Sha256Key, out string? recorded) &&
            !string.Equals(recorded, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file.AsSpan((int)dataStart))), StringComparison.Ordinal))
            throw new DataFormatException(path, "tensor data does not match the checksum recorded in the header (file damaged)");

        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in entries)
        {
            Tensor t = empty(e.Shape, e.Type);
            t.bytes = file.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin));
            tensors[e.Name] = t;
        }
        return (tensors, metadata);
    }

    static ScalarType ParseDType(string path, string name, string? dtype) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new DataFormatException(path, $"tensor '{name}': unsupported dtype '{dtype}'"),
    };

    static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {t} has no safetensors name"),
    };

    static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
