using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using Xunit;
using Xunit.Abstractions;

namespace LatentDiffusion.Tests.Data;

/// <summary>The real MNIST files of data/mnist, decompressed once for the tests that rewrite them in other forms.</summary>
public sealed class RealMnistFixture
{
    public RealMnistFixture()
    {
        foreach (string name in MnistDataset.FileNames)
        {
            byte[] gz = File.ReadAllBytes(Path.Combine(Directory, name + ".gz"));
            Gz[name] = gz;
            Content[name] = SyntheticIdx.Gunzip(gz);
        }
    }

    public string Directory { get; } = SyntheticIdx.RealMnistDirectory;

    /// <summary>The original .gz bytes, by standard name.</summary>
    public Dictionary<string, byte[]> Gz { get; } = [];

    /// <summary>The uncompressed IDX content, by standard name.</summary>
    public Dictionary<string, byte[]> Content { get; } = [];
}

/// <summary>Skipped when Debian's <c>dataset-fashion-mnist</c> package is not installed.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public const string Directory = "/usr/share/datasets/fashion-mnist";

    public FashionMnistFactAttribute()
    {
        if (!System.IO.Directory.Exists(Directory)) Skip = $"{Directory} missing (apt-get install dataset-fashion-mnist)";
    }
}

/// <summary>
/// Loading whole datasets: the real MNIST (original, recompressed, raw, modified), Fashion-MNIST, and small
/// synthetic sets for the unknown-dataset and structural paths. The real-data tests take about a second each.
/// </summary>
[Trait("Category", "RealData")]
public sealed class MnistDatasetTests(RealMnistFixture mnist, ITestOutputHelper output) : IClassFixture<RealMnistFixture>
{
    [Trait("Category", "Slow")]
    [Fact]
    public void Load_RepositoryMnist_IsMnistWithItsKnownShapes()
    {
        var notices = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        MnistData data = MnistDataset.Load(mnist.Directory, notices.Add);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long content = KnownDatasets.Mnist.Files.Sum(f => f.ContentLength);
        output.WriteLine($"loaded and verified MNIST in {stopwatch.Elapsed.TotalSeconds:0.00} s, allocating {allocated} bytes for {content} content bytes");

        Assert.Equal("MNIST", data.Name);
        Assert.Empty(notices);
        Assert.Equal((60000, 28, 28), (data.Train.Count, data.Train.Images.Rows, data.Train.Images.Cols));
        Assert.Equal((10000, 28, 28), (data.Test.Count, data.Test.Images.Rows, data.Test.Images.Cols));
        Assert.Equal(60000, data.Train.Labels.Length);
        Assert.Equal(5, data.Train.Labels[0]);
        Assert.Equal(7, data.Test.Labels[0]);
        foreach (KnownFile file in KnownDatasets.Mnist.Files)
            Assert.Equal(file.ContentSha256, data.ContentSha256[file.Name]);
        // Payload buffers double as gzip content arrives (1, 2, ..., 32 MB, then 47 MB for train images): under 3x the content.
        Assert.True(allocated < 3 * content, $"allocated {allocated} bytes");
    }

    [Fact]
    public void KnownMnistChecksums_MatchTheRepositoryFiles()
    {
        foreach (KnownFile file in KnownDatasets.Mnist.Files)
        {
            Assert.Equal(file.GzMd5, Convert.ToHexStringLower(MD5.HashData(mnist.Gz[file.Name])));
            Assert.Equal(file.ContentSha256, SyntheticIdx.Sha256(mnist.Content[file.Name]));
            Assert.Equal(file.ContentLength, mnist.Content[file.Name].Length);
        }
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Load_RecompressedMnist_StillVerifiesAsMnist()
    {
        using var dir = new TempDirectory();
        foreach (var (name, content) in mnist.Content)
        {
            byte[] gz = SyntheticIdx.Gzip(content, CompressionLevel.Fastest);
            Assert.NotEqual(mnist.Gz[name], gz);
            File.WriteAllBytes(dir.File(name + ".gz"), gz);
        }
        var notices = new List<string>();

        MnistData data = MnistDataset.Load(dir.Path, notices.Add);

        Assert.Equal("MNIST", data.Name);
        Assert.Empty(notices);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Load_RawMnist_IsMnist()
    {
        using var dir = new TempDirectory();
        foreach (var (name, content) in mnist.Content) File.WriteAllBytes(dir.File(name), content);

        MnistData data = MnistDataset.Load(dir.Path);

        Assert.Equal("MNIST", data.Name);
        Assert.Equal(mnist.Content[MnistDataset.TestImages].AsSpan(16).ToArray(), data.Test.Images.Pixels);
    }

    [Fact]
    public void Load_MnistWithOneChangedLabel_IsUnknownWithNoticeNamingTheFile()
    {
        using var dir = new TempDirectory();
        foreach (string name in new[] { MnistDataset.TrainImages, MnistDataset.TrainLabels, MnistDataset.TestImages })
            File.Copy(Path.Combine(mnist.Directory, name + ".gz"), dir.File(name + ".gz"));
        byte[] labels = (byte[])mnist.Content[MnistDataset.TestLabels].Clone();
        labels[8] = (byte)((labels[8] + 1) % 10);   // still a valid label, same size: only the checksum can tell
        File.WriteAllBytes(dir.File(MnistDataset.TestLabels), labels);
        var notices = new List<string>();

        MnistData data = MnistDataset.Load(dir.Path, notices.Add);

        Assert.Equal(KnownDatasets.Unknown, data.Name);
        string notice = Assert.Single(notices);
        Assert.Contains($"{MnistDataset.TestLabels} differ from MNIST's published content", notice);
        Assert.DoesNotContain('\n', notice);
    }

    [FashionMnistFact]
    public void Load_DebianFashionMnist_IsFashionMnist()
    {
        var notices = new List<string>();
        MnistData data = MnistDataset.Load(FashionMnistFactAttribute.Directory, notices.Add);

        Assert.Equal("Fashion-MNIST", data.Name);
        Assert.Empty(notices);
        Assert.Equal((60000, 10000), (data.Train.Count, data.Test.Count));
        Assert.Equal(9, data.Train.Labels[0]);   // ankle boot, as in Zalando's README
    }

    [Fact]
    public void Load_SyntheticDataset_IsUnknownWithOneLineNotice()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path, SyntheticIdx.Dataset(train: 20, test: 10));
        var notices = new List<string>();

        MnistData data = MnistDataset.Load(dir.Path, notices.Add);

        Assert.Equal(KnownDatasets.Unknown, data.Name);
        Assert.Equal((20, 10), (data.Train.Count, data.Test.Count));
        string notice = Assert.Single(notices);
        Assert.Contains("matches none of MNIST, Fashion-MNIST", notice);
        Assert.Equal(KnownDatasets.Unknown, MnistDataset.Load(dir.Path).Name);
    }

    [Fact]
    public void Load_MissingFile_NamesItAndTheDataOption()
    {
        using var dir = new TempDirectory();
        var files = SyntheticIdx.Dataset();
        files.Remove(MnistDataset.TestLabels);
        SyntheticIdx.Write(dir.Path, files);

        var e = Assert.Throws<DataFormatException>(() => MnistDataset.Load(dir.Path));

        Assert.Equal(dir.Path, e.FilePath);
        Assert.Contains($"missing {MnistDataset.TestLabels}", e.Message);
        Assert.Contains("--data", e.Message);
    }

    [Fact]
    public void Load_LabelCountDiffersFromImageCount_NamesTheLabelsFile()
    {
        using var dir = new TempDirectory();
        var files = SyntheticIdx.Dataset(train: 20, test: 10);
        files[MnistDataset.TrainLabels] = SyntheticIdx.Labels(19);
        SyntheticIdx.Write(dir.Path, files, gzip: false);

        var e = Assert.Throws<DataFormatException>(() => MnistDataset.Load(dir.Path));

        Assert.Equal(dir.File(MnistDataset.TrainLabels), e.FilePath);
        Assert.Contains("19 labels but", e.Message);
    }

    [Fact]
    public void LoadOrDownload_AllFilesPresent_DoesNotDownload()
    {
        using var dir = new TempDirectory();
        SyntheticIdx.Write(dir.Path, SyntheticIdx.Dataset());
        // Port 9 (discard) on loopback: any download attempt would fail and throw.
        var options = new DownloadOptions { Mirrors = [new Uri("http://127.0.0.1:9/")] };

        MnistData data = MnistDataset.LoadOrDownload(dir.Path, options);

        Assert.Equal(20, data.Train.Count);
    }
}
