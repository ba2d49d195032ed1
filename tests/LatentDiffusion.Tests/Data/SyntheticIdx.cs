using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using LatentDiffusion.Data;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Data;

/// <summary>
/// Tiny MNIST-layout IDX files built in memory (a few KB instead of 55 MB), so format tests stay fast, plus the
/// repository's real MNIST for the few tests that pin the real checksums.
/// </summary>
internal static class SyntheticIdx
{
    public const int Side = 28;

    /// <summary>IDX images: 16-byte header (0x803, count, rows, cols), then pixels that are mostly 0 like a digit's background.</summary>
    public static byte[] Images(int count, int seed = 0, int rows = Side, int cols = Side)
    {
        byte[] bytes = new byte[16 + count * rows * cols];
        WriteHeader(bytes, IdxReader.ImagesMagic, count, rows, cols);
        var rng = new Random(seed);
        for (int i = 16; i < bytes.Length; i++)
            bytes[i] = rng.Next(4) == 0 ? (byte)rng.Next(256) : (byte)0;
        return bytes;
    }

    /// <summary>IDX labels: 8-byte header (0x801, count), then classes 0-9.</summary>
    public static byte[] Labels(int count, int seed = 0)
    {
        byte[] bytes = new byte[8 + count];
        WriteHeader(bytes, IdxReader.LabelsMagic, count);
        var rng = new Random(seed + 1);
        for (int i = 8; i < bytes.Length; i++) bytes[i] = (byte)rng.Next(10);
        return bytes;
    }

    /// <summary>Writes a big-endian int32 magic and sizes at the start of <paramref name="bytes"/>.</summary>
    public static void WriteHeader(byte[] bytes, int magic, params int[] dims)
    {
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
    }

    public static byte[] Gzip(byte[] content, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, level, leaveOpen: true)) gz.Write(content);
        return buffer.ToArray();
    }

    public static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>The four files of a small dataset (train/test images and labels), by standard name.</summary>
    public static Dictionary<string, byte[]> Dataset(int train = 20, int test = 10, int seed = 0) => new()
    {
        [MnistDataset.TrainImages] = Images(train, seed),
        [MnistDataset.TrainLabels] = Labels(train, seed),
        [MnistDataset.TestImages] = Images(test, seed + 100),
        [MnistDataset.TestLabels] = Labels(test, seed + 100),
    };

    /// <summary>Writes <paramref name="contents"/> into <paramref name="directory"/>, gzipped as <c>name.gz</c> or raw.</summary>
    public static void Write(string directory, Dictionary<string, byte[]> contents, bool gzip = true)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, content) in contents)
            File.WriteAllBytes(Path.Combine(directory, gzip ? name + ".gz" : name), gzip ? Gzip(content) : content);
    }

    /// <summary>A <see cref="KnownDataset"/> whose checksums are those of <paramref name="gzByName"/> (the .gz bytes served).</summary>
    public static KnownDataset Known(string name, Dictionary<string, byte[]> gzByName) => new(name,
        gzByName.Select(kv =>
        {
            byte[] content = Gunzip(kv.Value);
            return new KnownFile(kv.Key, content.Length, Sha256(content), Convert.ToHexStringLower(MD5.HashData(kv.Value)));
        }).ToList());

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The repository's data/mnist (the four original .gz files), found upward from the test binaries.</summary>
    public static string RealMnistDirectory =>
        RepositoryPaths.Find("data/mnist") ?? throw new InvalidOperationException("data/mnist not found above " + AppContext.BaseDirectory);
}
