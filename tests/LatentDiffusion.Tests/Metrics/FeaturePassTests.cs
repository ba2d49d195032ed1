using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Metrics;

[Collection("Torch")]
public sealed class FeaturePassTests : IDisposable
{
    readonly Classifier classifier = TestPaths.LoadFixtureClassifier();

    public void Dispose() => classifier.Dispose();

    /// <summary>One pass serves FID too: its statistics are FidCalculator's, bit for bit, batch sizes that do not divide N included.</summary>
    [Theory]
    [InlineData(FidConfig.DefaultBatchSize)]
    [InlineData(37)]
    public void Run_Idx_StatisticsAreFidCalculatorsBitForBit(int batchSize)
    {
        using var dir = new TempDirectory();
        string path = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(150, seed: 3).Images);
        var config = new FidConfig(BatchSize: batchSize);
        ImageFeatures set = new FeaturePass(classifier, config).Run(FidSource.Detect(path));
        FeatureStatistics expected = new FidCalculator(classifier, config).Statistics(FidSource.Detect(path));
        Assert.Equal(expected.Mu, set.Statistics.Mu);
        Assert.Equal(expected.Sigma, set.Statistics.Sigma);
        Assert.Equal(150, set.Count);
        Assert.Equal(Classifier.FeatureDim, set.Features.Cols);
    }

    /// <summary>The kept features are the classifier's (float32 values widened), and the pixels the images zero-padded to 32x32.</summary>
    [Fact]
    public void Run_Idx_KeepsFeaturesAndPaddedPixels()
    {
        using var dir = new TempDirectory();
        IdxImages images = SyntheticData.Split(12, seed: 4).Images;
        string path = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", images);
        ImageFeatures set = new FeaturePass(classifier, new FidConfig(BatchSize: 5)).Run(FidSource.Detect(path));

        using (no_grad())
        using (Tensor inputs = Preprocess.ToModelInput(images.Pixels, 12, 28, 28))
        using (Tensor features = classifier.Features(inputs).to_type(ScalarType.Float64))
            Assert.Equal(features.data<double>().ToArray(), set.Features.Data);
        for (int i = 0; i < 12; i++)
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++)
                {
                    bool inside = r >= 2 && r < 30 && c >= 2 && c < 30;
                    byte expected = inside ? images.Pixels[i * 784 + (r - 2) * 28 + c - 2] : (byte)0;
                    Assert.Equal(expected, set.Pixels[i * 1024 + r * 32 + c]);
                }
    }

    /// <summary>Generated digits as float inputs: the statistics are StatisticsOfInputs's bits; the kept pixels round(255·x).</summary>
    [Fact]
    public void OfInputs_StatisticsAreFidCalculatorsBitForBit()
    {
        using var generator = new TorchSharp.torch.Generator(7);
        using Tensor inputs = rand([45, 1, 32, 32], generator: generator);
        var config = new FidConfig(BatchSize: 20);
        ImageFeatures set = new FeaturePass(classifier, config).OfInputs(inputs, "generated");
        FeatureStatistics expected = new FidCalculator(classifier, config).StatisticsOfInputs(inputs);
        Assert.Equal(expected.Mu, set.Statistics.Mu);
        Assert.Equal(expected.Sigma, set.Statistics.Sigma);
        float[] values = inputs.data<float>().ToArray();
        Assert.Equal(values.Select(v => (byte)Math.Round(255.0 * v)), set.Pixels);
    }

    /// <summary>The sampler table's scorer: the FID it gave before, and the manifold metrics from the same features when asked.</summary>
    [Fact]
    public void FidScorer_WithManifold_SameFidAndTheMetrics()
    {
        MnistData data = SyntheticData.Dataset(train: 120, test: 40);
        using Tensor images = data.Test.ToInputs();
        var scorer = new FidScorer(classifier, data);
        FidScore plain = scorer.Score(images, "x");
        FidScore with = scorer.Score(images, "x", quality: true);
        Assert.Equal(plain.Preact, with.Preact);
        Assert.Equal(plain.Flatten, with.Flatten);
        Assert.Null(plain.Manifold);
        ManifoldResult m = Assert.IsType<ManifoldResult>(with.Manifold);
        ManifoldResult direct = ManifoldMetrics.Compute(new FeaturePass(classifier).OfIdx(data.Train.Images).Features,
            new FeaturePass(classifier).OfInputs(images, "x").Features);
        Assert.Equal((direct.Precision, direct.Recall, direct.Density, direct.Coverage), (m.Precision, m.Recall, m.Density, m.Coverage));
        Assert.Equal((120, 40), (m.RealCount, m.FakeCount));
        ImageFeatures trainFeatures = new FeaturePass(classifier).OfIdx(data.Train.Images);
        ImageFeatures testFeatures = new FeaturePass(classifier).OfInputs(images, "x");
        double memorised = Memorisation.Compute(testFeatures, trainFeatures, testFeatures).MemorisedFraction;
        Assert.Equal(memorised, with.MemorisedFraction);
        // The Validation row (these 40 test images) with the metrics: the FID unchanged, the memorised fraction of the held-out set itself.
        FidScore validation = scorer.ValidationQuality;
        Assert.Equal(scorer.ValidationScore.Preact, validation.Preact);
        Assert.Equal(memorised, validation.MemorisedFraction);
        Assert.Equal(with.Manifold!.Precision, validation.Manifold!.Precision);
        Assert.NotNull(scorer.MemorisationThreshold);

        using Tensor three = images.narrow(0, 0, 3);
        FidScore few = scorer.Score(three, "tiny", quality: true);
        Assert.Null(few.Manifold);
        Assert.Contains(few.Warnings, w => w.Contains("row tiny: 3 digits") && w.Contains("too few for precision"));
    }

    /// <summary>A classifier that gives NaN features (NaN weights) stops a table with one line naming the set, the image and the feature.</summary>
    [Fact]
    public void FidScorer_NaNFeatures_OneLineNamingTheRow()
    {
        MnistData data = SyntheticData.Dataset(train: 60, test: 20);
        using var broken = new Classifier();
        using (no_grad())
            foreach (var p in broken.parameters()) p.fill_(double.NaN);
        using Tensor images = data.Test.ToInputs();
        var e = Assert.Throws<ArgumentException>(() => new FidScorer(broken, data).Score(images, "x", quality: true));
        Assert.Contains("feature 0 of row 0 is NaN; features must be finite", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.DoesNotContain("Parameter", e.Message);
    }

    /// <summary>The guidance sweep's per-class grades: the FID FidCalculator gives (bit for bit), and the metrics beyond FID against that digit's training images.</summary>
    [Fact]
    public void ConditionalGrading_Grade_SameFidAndTheMetricsPerClass()
    {
        MnistData data = SyntheticData.Dataset(train: 200, test: 100);   // 20 training and 10 test images a digit
        var grading = new ConditionalGrading(classifier, IdxDatasetKind.FromMnist(data));
        using Tensor test = data.Test.ToInputs();
        using Tensor index = tensor(Enumerable.Range(0, 100).Where(i => i % 10 == 3).Select(i => (long)i).ToArray());
        using Tensor threes = test.index_select(0, index);
        DigitGrade grade = grading.Grade(threes, 3);
        var fid = new FidCalculator(classifier, new FidConfig(FeatureKind.PreAct));
        using Tensor train = data.Train.ToInputs();
        using Tensor trainIndex = tensor(Enumerable.Range(0, 200).Where(i => i % 10 == 3).Select(i => (long)i).ToArray());
        using Tensor trainThrees = train.index_select(0, trainIndex);
        Assert.Equal(FrechetDistance.Compute(fid.StatisticsOfInputs(threes), fid.StatisticsOfInputs(trainThrees)), grade.Fid);
        ManifoldResult m = Assert.IsType<ManifoldResult>(grade.Manifold);
        Assert.Equal((20, 10), (m.RealCount, m.FakeCount));
        // The test threes are the held-out set of digit 3: 1st percentile of 10 distances, position 0.09: 1 of 10 below.
        Assert.Equal(0.1, grade.MemorisedFraction);
        var row = new GuidanceRow(1, [grade], 0);
        Assert.Equal(m.Coverage, row.Mean(d => d.Manifold?.Coverage));
        // A group too small for k + 1 gets the FID alone.
        using Tensor three = threes.narrow(0, 0, 3);
        Assert.Null(grading.Grade(three, 3).Manifold);
    }

    [Fact]
    public void Run_StatisticsFile_SaysImagesAreNeeded()
    {
        using var dir = new TempDirectory();
        string path = dir.File("stats.npz");
        new FeatureStatistics([0.0, 0.0], [1.0, 0.0, 0.0, 1.0]).Save(path);
        var e = Assert.Throws<DataFormatException>(() => new FeaturePass(classifier).Run(FidSource.Detect(path)));
        Assert.Contains("these metrics need the images", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Run_OneImage_NamesTheFile()
    {
        using var dir = new TempDirectory();
        string path = FidCalculatorTests.WriteIdx(dir.Path, "one-idx3-ubyte", SyntheticData.Split(1).Images);
        var e = Assert.Throws<DataFormatException>(() => new FeaturePass(classifier).Run(FidSource.Detect(path)));
        Assert.Contains("1 image(s)", e.Message);
    }
}
