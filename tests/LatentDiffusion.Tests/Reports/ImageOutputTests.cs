using LatentDiffusion.Reports;
using LatentDiffusion.Data;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

[Collection("Torch")]
public sealed class ImageOutputTests
{
    [Fact]
    public void Folder_HoldsOne28x28PngPerImage_ThatImageFolderReadsBack()
    {
        using var dir = new TempDirectory();
        manual_seed(1);
        using Tensor images = rand(5, 1, 32, 32);
        string folder = dir.File("digits");
        ImageOutput.Write(images, folder);
        Assert.Equal(5, ImageFolder.ListFiles(folder).Count);
        int read = ImageFolder.ReadBatches(folder, 10).Sum(b => b.Count);
        Assert.Equal(5, read);
        Assert.Empty(Directory.GetDirectories(dir.Path, ".*partial"));
    }

    /// <summary>
    /// Another dataset's 32x32 gray images are written whole: the dataset FID reads a folder at its files' size, so a
    /// 28x28 crop would come back resized to 32, other images than were generated.
    /// </summary>
    [Fact]
    public void Folder_OtherData_WholeImagesThatReadBackAsWritten()
    {
        using var dir = new TempDirectory();
        manual_seed(2);
        using Tensor images = rand(3, 1, 32, 32);
        string folder = dir.File("fashion");
        var fashion = new DatasetInfo(KnownDatasets.FashionMnist.Name, "/data", 1, 32, KnownDatasets.FashionMnist.ClassNames!, new string('b', 64), "the IDX files");
        Assert.False(ImageOutput.IsMnistLayout(fashion));
        Assert.True(ImageOutput.IsMnistLayout(null));
        ImageOutput.Write(images, folder, mnistLayout: ImageOutput.IsMnistLayout(fashion));
        LabelledImages read = ImageFolderDatasetKind.ReadUnlabelled(folder, 1, 32);
        using Tensor back = read.ToInputs();
        using Tensor bytes = images.mul(255).round().div(255);
        Assert.Equal(3, read.Count);
        Assert.True(back.allclose(bytes, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Folder_ThatExistsWithFiles_IsRefusedAndLeftAlone()
    {
        using var dir = new TempDirectory();
        string folder = dir.File("digits");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "keep.txt"), "x");
        using Tensor images = zeros(2, 1, 32, 32);
        Assert.Throws<IOException>(() => ImageOutput.Write(images, folder));
        Assert.Equal(["keep.txt"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Npz_HoldsTheArray()
    {
        using var dir = new TempDirectory();
        using Tensor images = full([3, 1, 32, 32], 0.25f);
        string path = dir.File("x.npz");
        ImageOutput.Write(images, path);
        var (arrays, _) = Npz.Load(path, new Dictionary<string, int> { ["images"] = 4 });
        Assert.Equal([3L, 1, 32, 32], arrays["images"].Shape);
        Assert.All(arrays["images"].Data, v => Assert.Equal(0.25, v));
    }

    [Fact]
    public void Grid_IsAPng_AndAFailedWriteLeavesNothing()
    {
        using var dir = new TempDirectory();
        using Tensor images = rand(10, 1, 32, 32);
        string path = dir.File("g.png");
        ImageOutput.Write(images, path);
        byte[] png = File.ReadAllBytes(path);
        Assert.Equal(0x89, png[0]);
        using Tensor wrong = rand(2, 2, 32, 32);                                   // neither gray nor RGB (RGB is a dataset's shape now)
        Assert.Throws<ArgumentException>(() => ImageOutput.Write(wrong, dir.File("bad.png")));
        Assert.Equal(["g.png"], dir.FileNames());
    }

    [Fact]
    public void CountProblem_NamesTheOptionsAndTheLimits()
    {
        Assert.Null(ImageOutput.CountProblem("a.png", 72));
        Assert.Null(ImageOutput.CountProblem("digits", 100_000));
        Assert.Equal("-n must be positive (got 0)", ImageOutput.CountProblem("a.png", 0));
        Assert.Contains("-n 2147483647 is more than this machine can hold: at most", ImageOutput.CountProblem("digits", int.MaxValue));
        Assert.Equal("--out a.png: a grid PNG holds at most 256 rows and 256 columns of digits (this one would be 10 x 300); write a folder or an .npz for more",
            ImageOutput.CountProblem("a.png", 3000, gridColumns: 300));
        Assert.Contains("257 x 8", ImageOutput.CountProblem("a.png", 257 * 8 - 1));
        Assert.Null(ImageOutput.CountProblem("a.npz", 257 * 8));
    }

    [Fact]
    public void WriteProblem_FindsWhatTheWriteWouldTripOn_BeforeAnyWork()
    {
        using var dir = new TempDirectory();
        Assert.Null(ImageOutput.WriteProblem(dir.File("new/deeper/a.png")));
        Assert.Null(ImageOutput.WriteProblem(dir.File("digits")));
        File.WriteAllText(dir.File("f"), "");
        Assert.Equal($"--out {dir.File("f/a.png")}: {dir.File("f")} is a file, not a folder", ImageOutput.WriteProblem(dir.File("f/a.png")));
        Assert.Equal($"--out {dir.File("f")} exists and is a file, not a folder", ImageOutput.WriteProblem(dir.File("f")));
        Directory.CreateDirectory(dir.File("full"));
        File.WriteAllText(dir.File("full/x"), "");
        Assert.Contains("folder exists and is not empty", ImageOutput.WriteProblem(dir.File("full")));
        Directory.CreateDirectory(dir.File("d.png"));
        Assert.Equal($"--out {dir.File("d.png")} is a folder; give a file name", ImageOutput.WriteProblem(dir.File("d.png")));
        if (OperatingSystem.IsLinux())   // a directory no process may create files in, even as root
            Assert.StartsWith("--out /proc/x.png cannot be written: no file can be created in /proc (", ImageOutput.WriteProblem("/proc/x.png"));
        Assert.Equal(["f"], dir.FileNames());                                                // the probes left nothing behind
    }
}
