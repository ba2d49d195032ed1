using System.Runtime.InteropServices;
using LatentDiffusion.IO;
using SkiaSharp;

namespace LatentDiffusion.Data;

/// <summary>What an image file's header says, read before any pixel is decoded.</summary>
/// <param name="Grayscale">The file stores one gray channel (a gray PNG or JPEG); a colour file may still hold only grays.</param>
public sealed record ImageHeader(int Width, int Height, bool Grayscale);

/// <summary>
/// Decodes image files (PNG, JPEG, BMP, GIF, WebP: whatever SkiaSharp reads) to 8-bit RGBA, for every image reader of
/// the library. The header is read first and a file larger than <see cref="MaxSide"/> or <see cref="MaxPixels"/> is
/// refused before a pixel is decoded. 16-bit, palette and CMYK files are converted to 8-bit RGB by SkiaSharp's
/// decoders; alpha is ignored (unpremultiplied). A truncated or corrupt file is a <see cref="DataFormatException"/>
/// naming it, never a partly decoded image.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Longest side accepted.</summary>
    public const int MaxSide = 16384;

    /// <summary>Most pixels accepted (width x height): a 50-megapixel image decodes to 200 MB of RGBA.</summary>
    public const long MaxPixels = 50_000_000;

    /// <summary>Largest file read (a compressed image of <see cref="MaxPixels"/> is far smaller).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>File name endings taken as images (case-insensitive); other files are not opened.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    public static bool HasImageExtension(string path) =>
        Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>An open image: its header and the codec that decodes it. Dispose it.</summary>
    public sealed class OpenImage(SKCodec codec, ImageHeader header, string path) : IDisposable
    {
        public ImageHeader Header { get; } = header;
        public string Path { get; } = path;

        /// <summary>Decodes into <paramref name="rgba"/> (at least width·height·4 bytes), row-major RGBA.</summary>
        public void DecodeRgba(byte[] rgba)
        {
            if (rgba.LongLength < 4L * Header.Width * Header.Height) throw new ArgumentException("buffer too small", nameof(rgba));
            var info = new SKImageInfo(Header.Width, Header.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            SKCodecResult result;
            GCHandle pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
            try { result = codec.GetPixels(info, pin.AddrOfPinnedObject()); }
            finally { pin.Free(); }
            if (result == SKCodecResult.IncompleteInput)
                throw new DataFormatException(Path, "image data ends early (truncated file?)");
            if (result != SKCodecResult.Success)
                throw new DataFormatException(Path, $"image could not be decoded ({result})");
        }

        public void Dispose() => codec.Dispose();
    }

    /// <summary>Opens <paramref name="path"/> and reads its header; <paramref name="bytes"/> are the file's content if already read.</summary>
    /// <exception cref="DataFormatException">Not a readable image, or larger than the limits; the message names the file.</exception>
    public static OpenImage Open(string path, byte[]? bytes = null)
    {
        SKCodec? codec;
        try
        {
            codec = bytes is null ? SKCodec.Create(path) : SKCodec.Create(new SKMemoryStream(bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
        if (codec is null) throw new DataFormatException(path, "not a readable image (PNG, JPEG, BMP, GIF or WebP expected)");
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0 || w > MaxSide || h > MaxSide || (long)w * h > MaxPixels)
        {
            codec.Dispose();
            throw new DataFormatException(path, $"image is {w}x{h}; refused before decoding (limits: sides ≤ {MaxSide}, ≤ {MaxPixels / 1_000_000} megapixels)");
        }
        return new OpenImage(codec, new ImageHeader(w, h, codec.Info.ColorType == SKColorType.Gray8), path);
    }

    /// <summary>The file's bytes, refusing files over <see cref="MaxFileBytes"/>; read errors (a symlink loop, permissions) name the file.</summary>
    public static byte[] ReadFile(string path)
    {
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxFileBytes) throw new DataFormatException(path, $"file is {length} bytes, more than an image may be ({MaxFileBytes})");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
    }

    /// <summary>L = 0.299 R + 0.587 G + 0.114 B, rounded, in PIL's 16-bit fixed point (the weights sum to 65536, so R = G = B = v gives v).</summary>
    public static byte Luminance(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}
