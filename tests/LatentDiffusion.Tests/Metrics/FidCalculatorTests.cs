using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Data;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

[Collection("Torch")]
public sealed class FidCalculatorTests(ITestOutputHelper output) : IDisposable
{
    readonly Classifier classifier = TestPaths.LoadFixtureClassifier();

    public void Dispose() => classifier.Dispose();

    [Trait("Category", "Parity")]
    [Theory]
    [InlineData(FeatureKind.PreAct, "features_pre.f32")]
    [InlineData(FeatureKind.Flatten, "features_post.f32")]
    public void StatisticsOfInputs_FixtureInputs_MatchStatisticsOfPyTorchFeatures(FeatureKind kind, string featuresFile)
    {
        using Tensor inputs = TestPaths.FixtureInputs();
        using Tensor reference = tensor(TestPaths.ReadFloats(TestPaths.PyTorchFixture(featuresFile)), [64, 128]);
        var calculator = new FidCalculator(classifier, new FidConfig(kind, BatchSize: 10));  // 7 batches, the last of 4
        FeatureStatistics ours = calculator.StatisticsOfInputs(inputs);
        FeatureStatistics theirs = FeatureStatistics.FromFeatures(reference);
        double muScale = theirs.Mu.Max(Math.Abs), sigmaScale = theirs.Sigma.Max(Math.Abs);
        double muError = theirs.Mu.Zip(ours.Mu, (t, o) => Math.Abs(t - o)).Max() / muScale;
        double sigmaError = theirs.Sigma.Zip(ours.Sigma, (t, o) => Math.Abs(t - o)).Max() / sigmaScale;
        output.WriteLine($"{kind}: max |Δμ|/max|μ| {muError:E2}, max |ΔΣ|/max|Σ| {sigmaError:E2}");
        Assert.True(muError <= 1e-5 && sigmaError <= 1e-5, $"μ {muError:E3}, Σ {sigmaError:E3}");
        Assert.Equal(64, ours.Count);
        Assert.Equal(FidCalculator.FeatureName(kind), ours.Provenance!.Features);
    }

    [Fact]
    public void Compute_SameIdxFileOnBothSides_IsZeroWithRankWarning()
    {
        using var dir = new TempDirectory();
        string path = WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(60, seed: 3).Images);
        var calculator = new FidCalculator(classifier, classifierSha256: new string('c', 64));
        FidResult result = calculator.Compute(FidSource.Detect(path), FidSource.Detect(path));
        Assert.True(Math.Abs(result.Fid) <= 1e-9, $"FID {result.Fid:E3}");
        Assert.Equal(60, result.CountA);
        Assert.Equal("cccccccccccc", result.ClassifierShort);
        Assert.Equal(2, result.Warnings.Count);                              // 60 ≤ 128 on both sides
        Assert.All(result.Warnings, w => Assert.Contains("rank-deficient", w));
    }

    [Fact]
    public void Statistics_FolderOfPngs_EqualsIdxOfTheSameImages()
    {
        using var dir = new TempDirectory();
        IdxImages images = SyntheticData.Split(12, seed: 4).Images;
        string idx = WriteIdx(dir.Path, "images-idx3-ubyte", images);
        string folder = dir.File("pngs");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < images.Count; i++)
            ImageFolderTests.WriteGrayPng(Path.Combine(folder, $"{i:D3}.png"), images.Pixels[(i * 784)..((i + 1) * 784)], 28);
        var calculator = new FidCalculator(classifier, new FidConfig(BatchSize: 5));
        FeatureStatistics fromIdx = calculator.Statistics(FidSource.Detect(idx));
        FeatureStatistics fromFolder = calculator.Statistics(FidSource.Detect(folder));
        Assert.Equal(FidSourceKind.ImageFolder, FidSource.Detect(folder).Kind);
        Assert.Equal(fromIdx.Mu, fromFolder.Mu);
        Assert.Equal(fromIdx.Sigma, fromFolder.Sigma);
    }

    [Fact]
    public void StatisticsOfIdx_Padded32_Equals28WithTrainingPadding()
    {
        IdxImages small = SyntheticData.Split(10, seed: 5).Images;
        var padded = new byte[small.Count * 32 * 32];
        for (int i = 0; i < small.Count; i++)
            for (int y = 0; y < 28; y++)
                Array.Copy(small.Pixels, i * 784 + y * 28, padded, i * 1024 + (y + 2) * 32 + 2, 28);
        var calculator = new FidCalculator(classifier);
        FeatureStatistics a = calculator.StatisticsOfIdx(small);
        FeatureStatistics b = calculator.StatisticsOfIdx(new IdxImages("padded", small.Count, 32, 32, padded));
        Assert.Equal(a.Mu, b.Mu);
        Assert.Equal(a.Sigma, b.Sigma);
    }

    [Fact]
    public void Statistics_SingleImage_IsAnErrorNamingTheSource()
    {
        using var dir = new TempDirectory();
        string idx = WriteIdx(dir.Path, "one-idx3-ubyte", SyntheticData.Split(1).Images);
        string folder = dir.File("one");
        Directory.CreateDirectory(folder);
        ImageFolderTests.WritePng(Path.Combine(folder, "only.png"), 28, (_, _) => (5, 5, 5));
        var calculator = new FidCalculator(classifier);
        foreach (string path in new[] { idx, folder })
        {
            var e = Assert.Throws<DataFormatException>(() => calculator.Statistics(FidSource.Detect(path)));
            Assert.Equal(path, e.FilePath);
            Assert.Contains("at least 2", e.Message);
        }
    }

    [Fact]
    public void Statistics_UnsupportedIdxSize_Throws()
    {
        using var dir = new TempDirectory();
        string path = WriteIdx(dir.Path, "big-idx3-ubyte", new IdxImages("x", 3, 40, 40, new byte[3 * 1600]));
        var e = Assert.Throws<DataFormatException>(() => new FidCalculator(classifier).Statistics(FidSource.Detect(path)));
        Assert.Contains("40x40", e.Message);
    }

    [Fact]
    public void Compute_SavedStatisticsFromAnotherClassifierOrFeatureKind_Warns()
    {
        using var dir = new TempDirectory();
        string idx = WriteIdx(dir.Path, "set-idx3-ubyte", SyntheticData.Split(200, seed: 6).Images);
        string statsPath = dir.File("set.npz");
        new FidCalculator(classifier, new FidConfig(FeatureKind.Flatten), new string('a', 64)).Statistics(FidSource.Detect(idx)).Save(statsPath);
        FidResult result = new FidCalculator(classifier, null, new string('b', 64)).Compute(FidSource.Detect(statsPath), FidSource.Detect(idx));
        Assert.Contains(result.Warnings, w => w.Contains("aaaaaaaaaaaa") && w.Contains("bbbbbbbbbbbb"));
        Assert.Contains(result.Warnings, w => w.Contains("'flatten'"));
        Assert.Equal(200, result.CountA);
    }

    [Fact]
    public void Compute_StatisticsFileAgainstItsImages_IsZero()
    {
        using var dir = new TempDirectory();
        string idx = WriteIdx(dir.Path, "set-idx3-ubyte", SyntheticData.Split(300, seed: 8).Images);
        string statsPath = dir.File("set.npz");
        var calculator = new FidCalculator(classifier, null, new string('d', 64));
        calculator.Statistics(FidSource.Detect(idx)).Save(statsPath);
        FidResult result = calculator.Compute(FidSource.Detect(statsPath), FidSource.Detect(idx));
        Assert.True(Math.Abs(result.Fid) <= 1e-9, $"FID {result.Fid:E3}");
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Compute_TwoStatisticsFilesWithoutClassifierFile_CiteTheRecordedClassifier()
    {
        using var dir = new TempDirectory();
        var maker = new FidCalculator(classifier, null, new string('e', 64));
        string a = dir.File("a.npz"), b = dir.File("b.npz");
        maker.StatisticsOfIdx(SyntheticData.Split(150, seed: 10).Images).Save(a);
        maker.StatisticsOfIdx(SyntheticData.Split(150, seed: 11).Images).Save(b);
        FidResult result = new FidCalculator(classifier).Compute(FidSource.Detect(a), FidSource.Detect(b));
        Assert.Equal("eeeeeeeeeeee", result.ClassifierShort);
        Assert.Empty(result.Warnings);
        Assert.True(result.Fid > 0);
    }

    [Fact]
    public void Statistics_LeavesNoLiveTensorsBehind()
    {
        using var dir = new TempDirectory();
        string idx = WriteIdx(dir.Path, "set-idx3-ubyte", SyntheticData.Split(120, seed: 12).Images);
        var calculator = new FidCalculator(classifier, new FidConfig(BatchSize: 16));
        calculator.Compute(FidSource.Detect(idx), FidSource.Detect(idx));      // warm-up
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++) calculator.Compute(FidSource.Detect(idx), FidSource.Detect(idx));
        long after = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal(before, after);
    }

    internal static string WriteIdx(string dir, string name, IdxImages images)
    {
        string path = Path.Combine(dir, name);
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in new[] { IdxReader.ImagesMagic, images.Count, images.Rows, images.Cols })
            w.Write(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v));      // IDX header: big-endian int32s
        w.Write(images.Pixels);
        return path;
    }
}
