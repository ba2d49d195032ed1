using LatentDiffusion.Data;
using LatentDiffusion.IO;
using SkiaSharp;

namespace LatentDiffusion.Tests.Data;

public sealed class ImageFolderTests
{
    /// <summary>Writes a PNG of <paramref name="side"/>² pixels; <paramref name="pixel"/> gives (r, g, b) at (x, y).</summary>
    internal static void WritePng(string path, int side, Func<int, int, (byte R, byte G, byte B)> pixel, bool gray = false) =>
        TestPngs.Write(path, side, side, pixel, gray);

    internal static void WriteGrayPng(string path, byte[] pixels, int side) =>
        WritePng(path, side, (x, y) => (pixels[y * side + x], pixels[y * side + x], pixels[y * side + x]), gray: true);

    static byte[] DecodeOne(string path)
    {
        var destination = new byte[ImageBatch.ImageBytes];
        ImageFolder.Decode(path, new byte[ImageBatch.ImageBytes * 4], destination);
        return destination;
    }

    [Fact]
    public void Decode_Grayscale28_IsPaddedByTwoZeroPixels()
    {
        using var dir = new TempDirectory();
        string path = dir.File("digit.png");
        byte[] pixels = Enumerable.Range(0, 28 * 28).Select(i => (byte)(i * 7 % 251 + 1)).ToArray();
        WriteGrayPng(path, pixels, 28);
        byte[] decoded = DecodeOne(path);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                bool inside = y is >= 2 and < 30 && x is >= 2 and < 30;
                byte expected = inside ? pixels[(y - 2) * 28 + (x - 2)] : (byte)0;
                Assert.Equal(expected, decoded[y * 32 + x]);
            }
    }

    [Fact]
    public void Decode_Rgb32_IsLuminanceWithoutPadding()
    {
        using var dir = new TempDirectory();
        string path = dir.File("colour.png");
        WritePng(path, 32, (x, y) => ((byte)(8 * x), (byte)(8 * y), (byte)(x + y)));
        byte[] decoded = DecodeOne(path);
        Assert.Equal(ImageFolder.Luminance(8 * 5, 8 * 9, 14), decoded[9 * 32 + 5]);
        Assert.Equal(ImageFolder.Luminance(8 * 31, 8 * 31, 62), decoded[31 * 32 + 31]);
        Assert.Equal(76, ImageFolder.Luminance(255, 0, 0));                   // PIL's convert("L") of pure red
        Assert.Equal(200, ImageFolder.Luminance(200, 200, 200));
    }

    [Fact]
    public void ReadBatches_NonImageFile_IsReportedByName()
    {
        using var dir = new TempDirectory();
        WritePng(dir.File("a.png"), 28, (_, _) => (0, 0, 0));
        string notes = dir.File("notes.txt");
        File.WriteAllText(notes, "not an image");
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.ReadBatches(dir.Path, 10).ToList());
        Assert.Equal(notes, e.FilePath);
        Assert.Contains("not a readable image", e.Message);
    }

    [Fact]
    public void ReadBatches_WrongSize_IsReportedByNameAndSize()
    {
        using var dir = new TempDirectory();
        string big = dir.File("big.png");
        WritePng(big, 64, (_, _) => (9, 9, 9));
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.ReadBatches(dir.Path, 10).ToList());
        Assert.Equal(big, e.FilePath);
        Assert.Contains("64x64", e.Message);
    }

    [Fact]
    public void ReadBatches_TruncatedPng_IsReportedByName()
    {
        using var dir = new TempDirectory();
        string path = dir.File("cut.png");
        WritePng(path, 28, (x, y) => ((byte)(x * 9), (byte)(y * 9), 0));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.ReadBatches(dir.Path, 10).ToList());
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void ReadBatches_EmptyFolder_Throws()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(".hidden"), "skipped");
        var e = Assert.Throws<DataFormatException>(() => ImageFolder.ReadBatches(dir.Path, 10));
        Assert.Equal(dir.Path, e.FilePath);
        Assert.Contains("no image files", e.Message);
    }

    [Fact]
    public void ReadBatches_FiveImagesInBatchesOfTwo_YieldsThemInNameOrder()
    {
        using var dir = new TempDirectory();
        for (int i = 0; i < 5; i++)
        {
            byte v = (byte)(10 * (i + 1));
            WritePng(dir.File($"img{i}.png"), 32, (_, _) => (v, v, v));
        }
        var firstPixels = new List<byte>();
        var counts = new List<int>();
        foreach (ImageBatch batch in ImageFolder.ReadBatches(dir.Path, 2))
        {
            counts.Add(batch.Count);
            for (int i = 0; i < batch.Count; i++) firstPixels.Add(batch.Pixels[i * ImageBatch.ImageBytes]);
        }
        Assert.Equal([2, 2, 1], counts);
        Assert.Equal(new byte[] { 10, 20, 30, 40, 50 }, firstPixels);
    }
}
