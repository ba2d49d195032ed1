using System.Buffers.Binary;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using Xunit;

namespace LatentDiffusion.Tests.Data;

/// <summary>
/// One test per way an IDX file can be wrong, each raw and gzipped: every one is a <see cref="DataFormatException"/>
/// that names the file and says what is wrong.
/// </summary>
public sealed class IdxReaderTests : IDisposable
{
    readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_ValidFile_ReturnsPixelsAndContentSha256(bool gzip)
    {
        byte[] content = SyntheticIdx.Images(20, seed: 3);
        string path = Write("images", content, gzip);

        IdxImages images = IdxReader.ReadImages(path);

        Assert.Equal((20, 28, 28), (images.Count, images.Rows, images.Cols));
        Assert.Equal(content.AsSpan(16).ToArray(), images.Pixels);
        Assert.Equal(SyntheticIdx.Sha256(content), images.Sha256);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadLabelsFile_ValidFile_ReturnsLabelsAndContentSha256(bool gzip)
    {
        byte[] content = SyntheticIdx.Labels(20, seed: 3);
        string path = Write("labels", content, gzip);

        IdxLabels labels = IdxReader.ReadLabelsFile(path);

        Assert.Equal(content.AsSpan(8).ToArray(), labels.Labels);
        Assert.Equal(SyntheticIdx.Sha256(content), labels.Sha256);
        Assert.Equal(labels.Labels, IdxReader.ReadLabels(path));
    }

    /// <summary>(case, reads images?, corruption of a valid 20-item file, expected fragment of the reason).</summary>
    public static TheoryData<string, bool, Func<byte[], byte[]>, string> Corruptions() => new()
    {
        { "labels read as images", true, _ => SyntheticIdx.Labels(20), "this is a labels file" },
        { "images read as labels", false, _ => SyntheticIdx.Images(20), "this is an images file" },
        { "not IDX", true, b => Set(b, 0, 0x50, 0x4b), "starts with two zero bytes" },
        { "float32 type byte", true, b => Set(b, 2, 0x0d), "element type 0x0d (float32)" },
        { "unknown type byte", false, b => Set(b, 2, 0x42), "element type 0x42 (not an IDX type)" },
        { "rank 0", true, b => Set(b, 3, 0), "rank 0 (a single scalar)" },
        { "rank 5", true, b => Set(b, 3, 5), "rank 5 is not supported" },
        { "rank 255", false, b => Set(b, 3, 255), "rank 255 is not supported" },
        { "rank 2", true, b => Set(b, 3, 2), "(rank 2)" },
        { "empty", true, _ => [], "0 bytes, too short for an IDX header" },
        { "truncated magic", false, b => b[..3], "3 bytes, too short for an IDX header" },
        { "truncated header", true, b => b[..10], "ends after 10 bytes, inside the 16-byte IDX images header" },
        { "truncated labels header", false, b => b[..6], "inside the 8-byte IDX labels header" },
        { "truncated body", true, b => b[..^100], "but the content is only" },
        { "header only", false, b => b[..8], "but the content is only 8 bytes" },
        { "trailing bytes", true, b => [.. b, 1, 2, 3], "(trailing data)" },
        { "trailing label", false, b => [.. b, 1], "(trailing data)" },
        { "label 10", false, b => Set(b, 8 + 7, 10), "label 10 at index 7 is outside 0-9" },
        { "label 255", false, b => Set(b, 8 + 19, 255), "label 255 at index 19" },
        { "zero count", true, b => Dim(b, 0, 0), "dimension 0 of the IDX images header is 0" },
        { "zero rows", true, b => Dim(b, 1, 0), "dimension 1 of the IDX images header is 0" },
        { "zero labels", false, b => Dim(b, 0, 0), "dimension 0 of the IDX labels header is 0" },
        { "2^31 images", true, b => Dim(b, 0, int.MinValue), "is -2147483648; sizes must be positive" },
        { "int.MaxValue images", true, b => Dim(b, 0, int.MaxValue), "more than the reader's limit" },
        { "int.MaxValue sides", true, b => Dim(Dim(Dim(b, 0, int.MaxValue), 1, int.MaxValue), 2, int.MaxValue), "limit" },
        { "huge side", true, b => Dim(Dim(b, 1, 5000), 2, 1), "exceeds 4096x4096" },
        { "claims one more image", true, b => Dim(b, 0, 21), "(truncated?)" },
        { "claims one image fewer", true, b => Dim(b, 0, 19), "(trailing data)" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Read_CorruptRawFile_ThrowsNamingFileAndReason(string name, bool images, Func<byte[], byte[]> corrupt, string reason) =>
        AssertFails(name, images, corrupt, reason, gzip: false);

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Read_CorruptContentInGzip_ThrowsNamingFileAndReason(string name, bool images, Func<byte[], byte[]> corrupt, string reason) =>
        AssertFails(name, images, corrupt, reason, gzip: true);

    [Fact]
    public void ReadImages_GzipCutInHalf_ReportsTruncation()
    {
        byte[] gz = SyntheticIdx.Gzip(SyntheticIdx.Images(20));
        string path = WriteRaw("cut.gz", gz[..(gz.Length / 2)]);
        Assert.Contains("(truncated?)", Fails(path, images: true).Reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void ReadImages_GzipMissingTrailerBytes_ReportsCutShort(int cut)
    {
        // The deflate data is whole, so the content decompresses completely: only the trailer check can tell.
        byte[] gz = SyntheticIdx.Gzip(SyntheticIdx.Images(20));
        string path = WriteRaw("trailer.gz", gz[..^cut]);
        Assert.Contains("gzip stream is cut short or damaged", Fails(path, images: true).Reason);
    }

    [Fact]
    public void ReadLabels_GzipWithGarbageAfterTrailer_Throws()
    {
        byte[] gz = SyntheticIdx.Gzip(SyntheticIdx.Labels(20));
        string path = WriteRaw("garbage.gz", [.. gz, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 1, 2]);
        Fails(path, images: false);
    }

    [Fact]
    public void ReadImages_GarbledGzip_ReportsCorruptStream()
    {
        byte[] gz = SyntheticIdx.Gzip(SyntheticIdx.Images(20));
        for (int i = gz.Length / 3; i < gz.Length / 3 + 16; i++) gz[i] ^= 0x5a;
        string path = WriteRaw("garbled.gz", gz);
        Assert.Contains("corrupt gzip stream", Fails(path, images: true).Reason);
    }

    [Fact]
    public void ReadImages_GzipWithBadCrc_ReportsCorruptStream()
    {
        byte[] gz = SyntheticIdx.Gzip(SyntheticIdx.Images(20));
        gz[^8] ^= 0x01;   // first byte of CRC32
        Assert.Contains("corrupt gzip stream", Fails(WriteRaw("crc.gz", gz), images: true).Reason);
    }

    [Fact]
    public void ReadContent_GzipAndCutGzip_ReturnsContentOrThrows()
    {
        byte[] content = SyntheticIdx.Labels(20);
        byte[] gz = SyntheticIdx.Gzip(content);
        Assert.Equal(content, IdxReader.ReadContent(WriteRaw("whole.gz", gz)));

        string cut = WriteRaw("cut.gz", gz[..^4]);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadContent(cut));
        Assert.Equal(cut, e.FilePath);
        Assert.Contains("cut short", e.Reason);
    }

    [Fact]
    public void ReadImages_MissingFile_ReportsNotFound()
    {
        string path = temp.File("absent-idx3-ubyte");
        Assert.Equal("file not found", Fails(path, images: true).Reason);
    }

    /// <summary>A 1.3-million-image claim on a 20-image file: the reader must not size anything by the header.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_HeaderClaimsHugeCountOnTinyFile_AllocatesByRealContent(bool gzip)
    {
        // 1.3M images x 784 B = 1.0 GB, just under the reader's limit, so only the real length can stop it.
        byte[] content = Dim(SyntheticIdx.Images(20), 0, 1_300_000);
        string path = Write("huge", content, gzip);
        IdxReader.ReadImages(Write("warmup", SyntheticIdx.Images(2), gzip));   // JIT and static buffers out of the measurement

        long before = GC.GetAllocatedBytesForCurrentThread();
        DataFormatException e = Fails(path, images: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("(truncated?)", e.Reason);
        Assert.True(allocated < 50L << 20, $"allocated {allocated} bytes for a {new FileInfo(path).Length}-byte file");
    }

    void AssertFails(string name, bool images, Func<byte[], byte[]> corrupt, string reason, bool gzip)
    {
        byte[] valid = images ? SyntheticIdx.Images(20) : SyntheticIdx.Labels(20);
        string path = Write(name.Replace(' ', '-'), corrupt(valid), gzip);
        DataFormatException e = Fails(path, images);
        Assert.Contains(reason, e.Reason);
    }

    /// <summary>Reads and expects the one exception type, naming <paramref name="path"/> in both its path and message.</summary>
    internal static DataFormatException Fails(string path, bool images)
    {
        var e = Assert.Throws<DataFormatException>(() =>
        {
            if (images) IdxReader.ReadImages(path);
            else IdxReader.ReadLabels(path);
        });
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message);
        return e;
    }

    string Write(string name, byte[] content, bool gzip) =>
        WriteRaw(gzip ? name + ".gz" : name, gzip ? SyntheticIdx.Gzip(content) : content);

    string WriteRaw(string name, byte[] bytes)
    {
        string path = temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static byte[] Set(byte[] bytes, int offset, params byte[] values)
    {
        byte[] copy = (byte[])bytes.Clone();
        values.CopyTo(copy, offset);
        return copy;
    }

    static byte[] Dim(byte[] bytes, int index, int value)
    {
        byte[] copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(4 + 4 * index), value);
        return copy;
    }
}
