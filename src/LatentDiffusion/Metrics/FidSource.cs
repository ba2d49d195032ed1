using LatentDiffusion.IO;

namespace LatentDiffusion.Metrics;

/// <summary>What one side of an FID comparison is read from.</summary>
public enum FidSourceKind
{
    /// <summary>An IDX images file (raw or .gz) of 28x28 or 32x32 images, e.g. <c>t10k-images-idx3-ubyte.gz</c>.</summary>
    IdxImages,
    /// <summary>A folder of 28x28 or 32x32 images (PNG), see <see cref="Data.ImageFolder"/>.</summary>
    ImageFolder,
    /// <summary>Precomputed statistics: a <c>.npz</c> with <c>mu</c> and <c>sigma</c> (ours or pytorch-fid's).</summary>
    Statistics,
}

/// <summary>
/// One side of an FID comparison: a path and what it holds. <see cref="Detect"/> tells them apart: a directory is
/// an image folder, a zip (<c>PK</c> magic) or a <c>.npz</c> name is a statistics file, any other file is read as IDX.
/// </summary>
public sealed record FidSource(string Path, FidSourceKind Kind)
{
    /// <summary>The source at <paramref name="path"/>; a path that does not exist is a <see cref="DataFormatException"/>.</summary>
    public static FidSource Detect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) return new FidSource(path, FidSourceKind.ImageFolder);
        if (!File.Exists(path)) throw new DataFormatException(path, "no such file or directory");
        if (path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || StartsWithZipMagic(path))
            return new FidSource(path, FidSourceKind.Statistics);
        return new FidSource(path, FidSourceKind.IdxImages);
    }

    /// <summary>Whether the source holds images to run through the classifier (not precomputed statistics).</summary>
    public bool HasImages => Kind != FidSourceKind.Statistics;

    /// <summary>A short phrase for messages: "IDX images t10k-images-idx3-ubyte.gz".</summary>
    public string Describe() => Kind switch
    {
        FidSourceKind.IdxImages => $"IDX images {Path}",
        FidSourceKind.ImageFolder => $"image folder {Path}",
        _ => $"statistics {Path}",
    };

    static bool StartsWithZipMagic(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            return file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4
                && magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", e);
        }
    }
}
