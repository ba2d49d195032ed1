using LatentDiffusion.Data;
using Xunit;

namespace LatentDiffusion.Tests.Data;

/// <summary>Naming a dataset from its four content checksums, without reading any file.</summary>
public sealed class KnownDatasetsTests
{
    [Fact]
    public void KnownDatasets_ListTheFourStandardFilesWithSha256()
    {
        foreach (KnownDataset dataset in KnownDatasets.All)
        {
            Assert.Equal(MnistDataset.FileNames, dataset.Files.Select(f => f.Name));
            Assert.All(dataset.Files, f => Assert.Matches("^[0-9a-f]{64}$", f.ContentSha256));
            Assert.All(dataset.Files, f => Assert.Matches("^[0-9a-f]{32}$", f.GzMd5));
        }
    }

    [Theory]
    [InlineData("MNIST")]
    [InlineData("Fashion-MNIST")]
    public void Identify_AllFourSumsOfADataset_NamesItSilently(string name)
    {
        KnownDataset dataset = KnownDatasets.All.Single(d => d.Name == name);
        var notices = new List<string>();

        string identified = KnownDatasets.Identify("dir", Sums(dataset), Lengths(dataset), notices.Add);

        Assert.Equal(name, identified);
        Assert.Empty(notices);
    }

    [Fact]
    public void Identify_OneFileDiffers_IsUnknownNamingTheFileAndTheClosestDataset()
    {
        var sums = Sums(KnownDatasets.FashionMnist);
        sums[MnistDataset.TrainImages] = new string('0', 64);
        var notices = new List<string>();

        string identified = KnownDatasets.Identify("dir", sums, Lengths(KnownDatasets.FashionMnist), notices.Add);

        Assert.Equal(KnownDatasets.Unknown, identified);
        Assert.StartsWith("dir: unknown dataset, train-images-idx3-ubyte differ from Fashion-MNIST's published content", Assert.Single(notices));
    }

    [Fact]
    public void Identify_MnistTrainWithFashionTest_IsUnknown()
    {
        var sums = Sums(KnownDatasets.Mnist);
        sums[MnistDataset.TestImages] = KnownDatasets.FashionMnist.Files[2].ContentSha256;
        sums[MnistDataset.TestLabels] = KnownDatasets.FashionMnist.Files[3].ContentSha256;
        var notices = new List<string>();

        Assert.Equal(KnownDatasets.Unknown, KnownDatasets.Identify("dir", sums, Lengths(KnownDatasets.Mnist), notices.Add));
        Assert.Contains("t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte differ from MNIST's", Assert.Single(notices));
    }

    [Fact]
    public void Identify_MnistSizesButNoMatchingSum_SaysSo()
    {
        var sums = KnownDatasets.Mnist.Files.ToDictionary(f => f.Name, _ => new string('1', 64));
        var notices = new List<string>();

        KnownDatasets.Identify("dir", sums, Lengths(KnownDatasets.Mnist), notices.Add);

        Assert.Contains("have MNIST's sizes", Assert.Single(notices));
    }

    [Fact]
    public void Identify_NoNoticeCallback_StillReturnsUnknown()
    {
        var sums = KnownDatasets.Mnist.Files.ToDictionary(f => f.Name, _ => "x");
        Assert.Equal(KnownDatasets.Unknown, KnownDatasets.Identify("dir", sums, new Dictionary<string, long>(), notice: null));
    }

    static Dictionary<string, string> Sums(KnownDataset dataset) => dataset.Files.ToDictionary(f => f.Name, f => f.ContentSha256);

    static Dictionary<string, long> Lengths(KnownDataset dataset) => dataset.Files.ToDictionary(f => f.Name, f => f.ContentLength);
}
