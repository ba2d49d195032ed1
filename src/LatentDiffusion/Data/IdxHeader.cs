using System.Buffers.Binary;
using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// The header of an IDX file (LeCun's format): a 4-byte magic <c>00 00 type rank</c>, then <c>rank</c> big-endian
/// int32 sizes. MNIST-layout files use type 0x08 (unsigned byte) with rank 1 (labels, magic 0x801) or rank 3
/// (images, magic 0x803). Parsing reads only the header bytes, so a header claiming a huge payload costs nothing.
/// </summary>
/// <param name="Bytes">The raw header as read, 4 + 4 x rank bytes (part of the file's checksum).</param>
/// <param name="Dims">The sizes, all positive.</param>
/// <param name="PayloadBytes">Product of the sizes: the number of data bytes that must follow the header.</param>
internal sealed record IdxHeader(byte[] Bytes, int[] Dims, long PayloadBytes)
{
    /// <summary>IDX element type of unsigned bytes, the only one MNIST-layout files use.</summary>
    public const byte UnsignedByte = 0x08;

    /// <summary>The IDX format defines ranks up to 4 in practice; anything larger is a sign of a wrong file.</summary>
    public const int MaxRank = 4;

    public int Length => Bytes.Length;

    /// <summary>
    /// Reads and checks the header from <paramref name="content"/> (positioned at the start of the decompressed
    /// content). Throws <see cref="DataFormatException"/> naming <paramref name="path"/> on any mismatch.
    /// </summary>
    /// <param name="expectedRank">1 for labels, 3 for images.</param>
    /// <param name="what">"labels" or "images", for messages.</param>
    /// <param name="maxPayload">Upper bound on the payload the header may claim.</param>
    public static IdxHeader Read(string path, Stream content, int expectedRank, string what, long maxPayload)
    {
        int expectedMagic = (UnsignedByte << 8) | expectedRank;
        byte[] magic = new byte[4];
        int got = content.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(path, $"content is {got} bytes, too short for an IDX header (truncated or empty file?)");
        CheckMagic(path, magic, expectedMagic, what);

        int rank = magic[3];
        byte[] bytes = new byte[4 + 4 * rank];
        magic.CopyTo(bytes, 0);
        got = 4 + content.ReadAtLeast(bytes.AsSpan(4), 4 * rank, throwOnEndOfStream: false);
        if (got < bytes.Length)
            throw new DataFormatException(path, $"content ends after {got} bytes, inside the {bytes.Length}-byte IDX {what} header (truncated?)");

        var dims = new int[rank];
        long payload = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (dims[i] <= 0)
                throw new DataFormatException(path, $"dimension {i} of the IDX {what} header is {dims[i]}; sizes must be positive");
            // Checked incrementally: three int32 sizes can overflow a long.
            if (payload > maxPayload / dims[i])
                throw new DataFormatException(path,
                    $"header claims {Describe(dims)} {what}, more than the reader's limit of {maxPayload} bytes (corrupt header?)");
            payload *= dims[i];
        }
        return new IdxHeader(bytes, dims, payload);
    }

    /// <summary>"60000 x 28 x 28" for messages.</summary>
    public static string Describe(IEnumerable<int> dims) => string.Join(" x ", dims);

    /// <summary>Names what is wrong with the magic: not IDX at all, wrong element type, rank 0, rank &gt; 4, or the other kind of file.</summary>
    static void CheckMagic(string path, byte[] magic, int expectedMagic, string what)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(magic);
        string prefix = $"bad magic 0x{value:x8}: expected 0x{expectedMagic:x8} for IDX {what}";
        if (magic[0] != 0 || magic[1] != 0)
            throw new DataFormatException(path, $"{prefix}; an IDX file starts with two zero bytes, this one with {magic[0]:x2} {magic[1]:x2} (not an IDX file?)");
        if (magic[2] != UnsignedByte)
            throw new DataFormatException(path, $"{prefix}; element type 0x{magic[2]:x2} ({TypeName(magic[2])}) but MNIST-layout files hold unsigned bytes (0x08)");
        int rank = magic[3];
        int expectedRank = expectedMagic & 0xff;
        if (rank == 0)
            throw new DataFormatException(path, $"{prefix}; rank 0 (a single scalar) but IDX {what} have rank {expectedRank}");
        if (rank > MaxRank)
            throw new DataFormatException(path, $"{prefix}; rank {rank} is not supported (at most {MaxRank}); IDX {what} have rank {expectedRank}");
        if (rank != expectedRank)
        {
            string hint = rank switch
            {
                1 => "this is a labels file",
                3 => "this is an images file",
                _ => $"rank {rank}",
            };
            throw new DataFormatException(path, $"{prefix} ({hint})");
        }
    }

    /// <summary>The element types of the IDX specification (http://yann.lecun.com/exdb/mnist/).</summary>
    static string TypeName(byte type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "not an IDX type",
    };
}
