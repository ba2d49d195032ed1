using System.Diagnostics;
using LatentDiffusion.Data;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Data;

/// <summary>Labelled image folders: layouts, the split, channels, resizing, and every kind of bad input (small, synthetic).</summary>
public sealed class ImageFolderDatasetTests
{
    static readonly ImageFolderDatasetKind Kind = new();

    /// <summary>class a: dark images, class b: bright ones, <paramref name="perClass"/> each, gray or red-tinted.</summary>
    static string TwoClasses(TempDirectory dir, int perClass = 5, bool colour = false, string? under = null, int side = 32)
    {
        string root = under is null ? dir.Path : Path.Combine(dir.Path, under);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < perClass; i++)
            {
                byte v = (byte)(c == 0 ? 20 + i : 200 + i);
                TestPngs.Write(Path.Combine(root, c == 0 ? "a" : "b", $"{i:D3}.png"), side, side, (x, y) => (v, colour ? (byte)0 : v, colour ? (byte)0 : v));
            }
        return dir.Path;
    }

    static ImageDataset Load(string root, DatasetOptions? options = null) => Kind.Load(root, options ?? new DatasetOptions());

    [Fact]
    public void Load_ClassFolders_HoldsOutASeededTenthOfEachClassAndRecordsIt()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir, perClass: 10);
        ImageDataset a = Load(dir.Path), b = Load(dir.Path);
        Assert.Equal(["a", "b"], a.Info.ClassNames);
        Assert.Equal(18, a.Train.Count);
        Assert.Equal(2, a.Test.Count);
        Assert.Equal([0, 1], a.Test.Labels);
        Assert.Contains("seed 0", a.Info.Split);
        Assert.Equal(a.Test.Image(0).ToArray(), b.Test.Image(0).ToArray());
        Assert.Equal(a.Info.ContentSha256, b.Info.ContentSha256);
        ImageDataset other = Load(dir.Path, new DatasetOptions { SplitSeed = 5 });
        Assert.Contains("seed 5", other.Info.Split);
    }

    [Fact]
    public void Load_TrainAndTestFolders_UsesThemAndIgnoresTopLevelFiles()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir, perClass: 4, under: "train");
        TwoClasses(dir, perClass: 2, under: "test");
        File.WriteAllText(dir.File("README.txt"), "hello");
        ImageDataset data = Load(dir.Path);
        Assert.Equal(8, data.Train.Count);
        Assert.Equal(4, data.Test.Count);
        Assert.Contains("train/ and test/", data.Info.Split);
        Assert.Equal(1, data.Report.Ignored);
    }

    [Fact]
    public void Load_GrayImages_GiveOneChannelAndColourGivesThree()
    {
        using var gray = new TempDirectory();
        TwoClasses(gray);
        Assert.Equal(1, Load(gray.Path).Channels);
        Assert.Equal(1, Load(gray.Path).Train.Channels);
        using var colour = new TempDirectory();
        TwoClasses(colour, colour: true);
        ImageDataset rgb = Load(colour.Path);
        Assert.Equal(3, rgb.Channels);
        Assert.Equal(0, rgb.Report.ConvertedToRgb);
        Assert.Equal(1, Load(colour.Path, new DatasetOptions { Channels = 1 }).Channels);
    }

    [Fact]
    public void Load_MixedGrayAndRgb_ConvertsTheGrayOnesAndCountsThem()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir, perClass: 3);
        TestPngs.Write(dir.File("b/colour.png"), 32, 32, (x, y) => (255, 0, 0));
        TestPngs.Write(dir.File("a/gray-format.png"), 32, 32, (x, y) => (9, 9, 9), gray: true);
        ImageDataset data = Load(dir.Path);
        Assert.Equal(3, data.Channels);
        Assert.Equal(7, data.Report.ConvertedToRgb);
    }

    [Fact]
    public void Load_AnySize_IsCentreCroppedAndAreaResized()
    {
        using var dir = new TempDirectory();
        // 96x64: the centre 64x64 square is columns 16..79; left half black, right half white within it.
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 2; i++)
                TestPngs.Write(dir.File($"{c}/{i}.png"), 96, 64, (x, y) => x < 48 ? ((byte)0, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255));
        ImageDataset data = Load(dir.Path);
        byte[] image = data.Train.Image(0).ToArray();
        Assert.Equal(0, image[5 * 32 + 15]);
        Assert.Equal(255, image[5 * 32 + 16]);
        ImageDataset big = Load(dir.Path, new DatasetOptions { Resolution = 64 });
        Assert.Equal(64 * 64, big.Train.ImageBytes);
        Assert.Equal(64, big.Info.Resolution);
    }

    [Fact]
    public void Load_EmptyFolder_FailsSayingSo()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DataFormatException>(() => Load(dir.Path));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Load_OneClass_FailsNamingIt()
    {
        using var dir = new TempDirectory();
        TestPngs.Write(dir.File("only/0.png"), 8, 8, (x, y) => (1, 1, 1));
        var e = Assert.Throws<DataFormatException>(() => Load(dir.Path));
        Assert.Contains("one class folder ('only')", e.Message);
    }

    [Fact]
    public void Load_ClassFolderWithoutImages_FailsNamingIt()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        Directory.CreateDirectory(dir.File("c"));
        File.WriteAllText(dir.File("c/notes.txt"), "not an image");
        var e = Assert.Throws<DataFormatException>(() => Load(dir.Path));
        Assert.Contains("class folder 'c' holds no images", e.Message);
    }

    [Fact]
    public void Load_CorruptImage_FailsNamingItOrIsSkippedAndCounted()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        File.WriteAllBytes(dir.File("a/broken.png"), [1, 2, 3, 4, 5, 6, 7, 8]);
        var e = Assert.Throws<DataFormatException>(() => Load(dir.Path));
        Assert.Contains("broken.png", e.Message);
        ImageDataset data = Load(dir.Path, new DatasetOptions { SkipBad = true });
        Assert.Equal(1, data.Report.Skipped);
        Assert.Equal(10, data.Train.Count + data.Test.Count);
    }

    [Fact]
    public void Load_TruncatedImage_FailsNamingIt()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        var rng = new Random(1);
        TestPngs.Write(dir.File("b/cut.png"), 64, 64, (x, y) => ((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)));
        byte[] whole = File.ReadAllBytes(dir.File("b/cut.png"));
        File.WriteAllBytes(dir.File("b/cut.png"), whole[..(whole.Length / 2)]);
        var e = Assert.Throws<DataFormatException>(() => Load(dir.Path));
        Assert.Contains("cut.png", e.Message);
    }

    [Fact]
    public void Load_SixteenBitAndPalettePngs_AreConverted()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        // 16-bit gray 4x4, every sample 0x8000 → 128 after conversion to 8 bits.
        byte[] rows16 = Enumerable.Range(0, 4).SelectMany(_ => new byte[] { 0 }.Concat(Enumerable.Repeat(new byte[] { 0x80, 0x00 }, 4).SelectMany(b => b))).ToArray();
        File.WriteAllBytes(dir.File("a/sixteen.png"), TestPngs.Raw(4, 4, 0, 16, rows16));
        // Palette 4x4, every index 1 → (0, 0, 255).
        byte[] rows8 = Enumerable.Range(0, 4).SelectMany(_ => new byte[] { 0, 1, 1, 1, 1 }).ToArray();
        File.WriteAllBytes(dir.File("b/palette.png"), TestPngs.Raw(4, 4, 3, 8, rows8, palette: [255, 0, 0, 0, 0, 255]));
        ImageDataset data = Load(dir.Path);
        Assert.Equal(3, data.Channels);
        var all = new[] { data.Train, data.Test }.SelectMany(s => Enumerable.Range(0, s.Count).Select(i => (Split: s, Index: i))).ToList();
        var sixteen = all.Single(t => t.Split.Image(t.Index)[0] is >= 126 and <= 130);
        Assert.Equal(sixteen.Split.Image(sixteen.Index)[0], sixteen.Split.Image(sixteen.Index)[32 * 32]);      // gray: R = G
        var palette = all.Single(t => t.Split.Image(t.Index)[2 * 32 * 32] == 255 && t.Split.Image(t.Index)[0] == 0);
        Assert.Equal(1, palette.Split.Labels[palette.Index]);
    }

    /// <summary>
    /// An 8x8 CMYK JPEG of pure red (ImageMagick: <c>convert -size 8x8 xc:red -colorspace CMYK -quality 100 cmyk.jpg</c>,
    /// Adobe's inverted CMYK as Photoshop writes it, 293 bytes) is converted to RGB red: the data becomes RGB and the
    /// image's pixels read (255, 0, 0) within JPEG rounding.
    /// </summary>
    [Fact]
    public void Load_CmykJpeg_IsConvertedToRgb()
    {
        const string CmykRedJpeg = "/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB/9sAQwEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB/8AAFAgACAAIBAERAAIRAQMRAQQRAP/EABUAAQEAAAAAAAAAAAAAAAAAAAkK/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/EABUBAQEAAAAAAAAAAAAAAAAAAAkL/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAA4EAQACEQMRBAAAPwBmCsJ/6/h//9k=";
        using var dir = new TempDirectory();
        TwoClasses(dir);
        File.WriteAllBytes(dir.File("b/cmyk.jpg"), Convert.FromBase64String(CmykRedJpeg));
        ImageDataset data = Load(dir.Path);
        Assert.Equal(3, data.Channels);
        var all = new[] { data.Train, data.Test }.SelectMany(s => Enumerable.Range(0, s.Count).Select(i => (Split: s, Index: i))).ToList();
        const int plane = 32 * 32;
        var red = all.Where(t => t.Split.Image(t.Index) is var px && px[0] >= 250 && px[plane] <= 5 && px[2 * plane] <= 5).ToList();
        Assert.Single(red);
        Assert.Equal(1, red[0].Split.Labels[red[0].Index]);
        byte[] image = red[0].Split.Image(red[0].Index).ToArray();
        Assert.All(Enumerable.Range(0, plane), i => Assert.True(image[i] >= 250 && image[plane + i] <= 5 && image[2 * plane + i] <= 5, $"pixel {i}"));
    }

    [Fact]
    public void Load_HugeImage_IsRefusedFromItsHeader()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        File.WriteAllBytes(dir.File("a/huge.png"), TestPngs.HugeHeader(30000));
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<DataFormatException>(() => Load(dir.Path));
        Assert.Contains("huge.png", e.Message);
        Assert.Contains("30000x30000", e.Message);
        Assert.Contains("refused before decoding", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Load_NonImageAndHiddenFiles_AreIgnoredAndCounted()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        File.WriteAllText(dir.File("a/labels.csv"), "x");
        File.WriteAllText(dir.File("b/.DS_Store"), "x");
        File.WriteAllText(dir.File("top.txt"), "x");
        ImageDataset data = Load(dir.Path);
        Assert.Equal(3, data.Report.Ignored);
        Assert.Equal(10, data.Train.Count + data.Test.Count);
    }

    [Fact]
    public void Load_SymlinkLoop_IsNotFollowed()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir);
        Directory.CreateSymbolicLink(dir.File("a/loop"), dir.File("a"));
        Directory.CreateSymbolicLink(dir.File("b/up"), dir.Path);
        ImageDataset data = Load(dir.Path);
        Assert.Equal(2, data.Report.LinksNotFollowed);
        Assert.Equal(10, data.Train.Count + data.Test.Count);
    }

    [Fact]
    public void Read_HundredThousandFilesInOneClass_ListsInLinearishTime()
    {
        using var dir = new TempDirectory();
        TwoClasses(dir, perClass: 1);
        string many = dir.File("many");
        Directory.CreateDirectory(many);
        for (int i = 0; i < 100_000; i++) File.Create(Path.Combine(many, $"{(i * 7919) % 100_000:D6}.png")).Dispose();
        var watch = Stopwatch.StartNew();
        ImageFolderListing listing = ImageFolderListing.Read(dir.Path);
        Assert.Equal(100_000, listing.Train.Single(c => c.Name == "many").Files.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"listing took {watch.Elapsed}");
        Assert.EndsWith("000000.png", listing.Train.Single(c => c.Name == "many").Files[0]);
    }

    [Fact]
    public void KindOf_FileOrUnknownName_IsOneLine()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("x"), "x");
        Assert.Contains("is a file", Assert.Throws<DataFormatException>(() => Datasets.KindOf(dir.File("x"))).Message);
        Assert.Contains("not a dataset name", Assert.Throws<DataFormatException>(() => Datasets.KindOf(dir.File("nope"))).Message);
        Assert.IsType<IdxDatasetKind>(Datasets.KindOf("fashion-mnist"));
        Assert.IsType<ImageFolderDatasetKind>(Datasets.KindOf(dir.Path));
    }
}
