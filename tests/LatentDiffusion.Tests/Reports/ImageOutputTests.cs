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
        using Tensor wrong = rand(2, 3, 32, 32);
        Assert.Throws<ArgumentException>(() => ImageOutput.Write(wrong, dir.File("bad.png")));
        Assert.Equal(["g.png"], dir.FileNames());
    }
}
