using LatentDiffusion.Data;

namespace LatentDiffusion.Tests.Data;

/// <summary><c>ldm data colored-mnist</c>'s writer: the layout, the seeded rule, and nothing written on failure.</summary>
public sealed class ColoredMnistTests
{
    [Fact]
    public void Write_IsAnRgbImageFolderThatLoadsWithTenClasses()
    {
        using var dir = new TempDirectory();
        string root = dir.File("colored");
        var (train, test) = ColoredMnist.Write(SyntheticData.Dataset(40, 20), root, seed: 3);
        Assert.Equal((40, 20), (train, test));
        ImageDataset data = new ImageFolderDatasetKind().Load(root, new DatasetOptions());
        Assert.Equal(3, data.Channels);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), data.Info.ClassNames);
        Assert.Equal(40, data.Train.Count);
        Assert.Equal(20, data.Test.Count);
        Assert.Contains("train/ and test/", data.Info.Split);
    }

    [Fact]
    public void Write_SameSeed_SameBytes_OtherSeed_OtherColours()
    {
        using var dir = new TempDirectory();
        var source = SyntheticData.Dataset(10, 10);
        ColoredMnist.Write(source, dir.File("a"), seed: 1);
        ColoredMnist.Write(source, dir.File("b"), seed: 1);
        ColoredMnist.Write(source, dir.File("c"), seed: 2);
        string file = Path.Combine("train", "0", "00000.png");
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), file)), File.ReadAllBytes(Path.Combine(dir.File("b"), file)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(dir.File("a"), file)), File.ReadAllBytes(Path.Combine(dir.File("c"), file)));
    }

    [Fact]
    public void Colour_MixesDigitOverDarkOppositeHue()
    {
        var digit = new byte[784];
        digit[0] = 255;                                                        // (2, 2) after padding
        var rgba = new byte[32 * 32 * 4];
        ColoredMnist.Colour(digit, 0.0, rgba);                                 // red digit on a dark cyan background
        byte[] ink = rgba.AsSpan(4 * (2 * 32 + 2), 4).ToArray(), background = rgba.AsSpan(0, 4).ToArray();
        Assert.Equal(255, ink[0]);                                             // HSV(0, 0.9, 1) = (1, 0.1, 0.1)
        Assert.InRange(ink[1], 25, 26);
        Assert.InRange(background[0], 25, 26);                                 // HSV(0.5, 0.6, 0.25) = (0.1, 0.25, 0.25)
        Assert.Equal(64, background[1]);
        Assert.Equal(255, background[3]);
    }

    [Fact]
    public void Write_FailingHalfway_LeavesNoFolder()
    {
        using var dir = new TempDirectory();
        var good = SyntheticData.Split(5);
        var bad = new MnistSplit(new IdxImages("odd", 1, 30, 30, new byte[900]), [0]);
        Assert.Throws<ArgumentException>(() => ColoredMnist.Write(new MnistData("x", "x", good, bad), dir.File("out")));
        Assert.False(Directory.Exists(dir.File("out")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }
}
