using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace LatentDiffusion.Tests.Data;

/// <summary>PNG files written byte by byte (16-bit, palette, a header claiming any size) and with SkiaSharp, for the loaders' bad-input tests.</summary>
internal static class TestPngs
{
    /// <summary>An RGB (or gray) 8-bit PNG of <paramref name="width"/> x <paramref name="height"/>; <paramref name="pixel"/> gives (r, g, b).</summary>
    public static void Write(string path, int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel, bool gray = false)
    {
        var info = new SKImageInfo(width, height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, gray ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, png.ToArray());
    }

    /// <summary>A PNG from raw scanlines: colour type 0 gray, 2 RGB, 3 palette; bit depth 8 or 16.</summary>
    public static byte[] Raw(int width, int height, byte colorType, byte bitDepth, byte[] scanlines, byte[]? palette = null)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(file, "IHDR", ihdr);
        if (palette is not null) Chunk(file, "PLTE", palette);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(scanlines);
            Chunk(file, "IDAT", compressed.ToArray());
        }
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>A PNG whose header claims <paramref name="side"/> x <paramref name="side"/> RGB pixels, with almost no data.</summary>
    public static byte[] HugeHeader(int side) => Raw(side, side, 2, 8, new byte[16]);

    static void Chunk(Stream file, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        file.Write(length);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        file.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        file.Write(crc);
    }

    static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
