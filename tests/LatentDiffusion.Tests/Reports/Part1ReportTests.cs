using System.Text.RegularExpressions;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Metrics;
using LatentDiffusion.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

/// <summary>One report written once, on an untrained seeded classifier and 200 synthetic images.</summary>
public sealed class Part1ReportFixture : IDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"ldm-report-{Guid.NewGuid():N}");
    public Part1ReportConfig Config { get; } = new();
    public Part1ReportResult Result { get; }

    public Part1ReportFixture()
    {
        manual_seed(0);
        using var model = new Classifier();
        MnistData data = SyntheticData.Dataset(train: 50, test: 200);
        EvaluationResult evaluation;
        using (Tensor x = data.Test.ToInputs())
        using (Tensor y = data.Test.ToTargets())
            evaluation = ClassifierEvaluation.Evaluate(model, x, y);
        var info = new ReportModelInfo("synthetic.safetensors", new string('a', 64), model.ParameterCount(), 12.4);
        List<EpochLog> history = [EpochLog.Classifier(1, 2.30, 2.29, 0.11, 4), EpochLog.Classifier(2, 2.20, 2.25, 0.14, 8), EpochLog.Classifier(3, 2.10, 2.24, 0.15, 12.4)];
        var inputs = new Part1ReportInputs(model, data, evaluation, info)
        {
            History = history,
            FidRows = [new("Random", 48.0, 1.0, BlogPart1.FidRandom), new("Validation", 0.5, 0.5 / 48.0, BlogPart1.FidValidation)],
        };
        Result = Part1Report.Write(inputs, Directory, Config);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

[Collection("Torch")]
public class Part1ReportTests(Part1ReportFixture fixture) : IClassFixture<Part1ReportFixture>
{
    public static readonly TheoryData<string> FigureNames = new(
        "samples.png", "loss.png", "activations_layer2.png", "activations_layer5.png", "activations_layer8.png",
        "feature_histograms.png", "confusion.png", "misclassified.png", "ks_distances.png");

    [Theory]
    [MemberData(nameof(FigureNames))]
    public void Write_Figure_DecodesWithItsSizeAndIsNotBlank(string name)
    {
        ReportFigure figure = Assert.Single(fixture.Result.Figures, f => f.FileName == name);
        using SKBitmap? bitmap = SKBitmap.Decode(Path.Combine(fixture.Directory, name));
        Assert.NotNull(bitmap);
        Assert.Equal((figure.Width, figure.Height), (bitmap.Width, bitmap.Height));
        Assert.True(ImageAssert.LuminanceVariance(bitmap) > 0, $"{name} is a single flat colour");
        Assert.False(string.IsNullOrWhiteSpace(figure.Title));
    }

    [Fact]
    public void Write_FigureSizes_FollowTheConfig()
    {
        var c = fixture.Config;
        ReportFigure Get(string name) => fixture.Result.Figures.Single(f => f.FileName == name);
        Assert.Equal((c.PlotWidth, c.PlotHeight), (Get("loss.png").Width, Get("loss.png").Height));
        Assert.Equal((c.PlotWidth, c.PlotHeight), (Get("ks_distances.png").Width, Get("ks_distances.png").Height));
        Assert.Equal((c.ConfusionSize, c.ConfusionSize), (Get("confusion.png").Width, Get("confusion.png").Height));
        Assert.Equal(4 * c.HistogramCellWidth, Get("feature_histograms.png").Width);
        Assert.True(Get("feature_histograms.png").Height > 4 * c.HistogramCellHeight);
        // Ten 28×28 digits at ×3 per row and per column, plus gaps and labels.
        Assert.True(Get("samples.png").Width > 10 * 28 * c.DigitScale && Get("samples.png").Height > 10 * 28 * c.DigitScale);
        // Layer 8: 32 channels of 2×2 maps magnified to 48 px.
        Assert.True(Get("activations_layer8.png").Width > 32 * c.ActivationCellTarget);
    }

    [Fact]
    public void Index_ReferencesOnlyFilesThatExistAndNoNetworkAsset()
    {
        string html = File.ReadAllText(fixture.Result.IndexPath);
        string[] links = Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(links);
        foreach (string link in links)
        {
            Assert.DoesNotContain("://", link);
            Assert.False(Path.IsPathRooted(link), $"{link} is not relative");
            Assert.True(File.Exists(Path.Combine(fixture.Directory, link)), $"index.html links {link}, which does not exist");
        }
        foreach (ReportFigure figure in fixture.Result.Figures) Assert.Contains(figure.FileName, links);
        Assert.Contains(FeatureNormality.CsvName, links);
        Assert.DoesNotContain("http", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Markdown_ReferencesOnlyFilesThatExist()
    {
        string markdown = File.ReadAllText(fixture.Result.MarkdownPath);
        string[] links = Regex.Matches(markdown, @"\]\(([^)]*)\)").Select(m => m.Groups[1].Value).ToArray();
        foreach (string link in links) Assert.True(File.Exists(Path.Combine(fixture.Directory, link)), $"report.md links {link}, which does not exist");
        foreach (ReportFigure figure in fixture.Result.Figures) Assert.Contains(figure.FileName, links);
    }

    [Fact]
    public void Pages_ShowOurNumbersBesideTheBlogs()
    {
        foreach (string page in new[] { fixture.Result.IndexPath, fixture.Result.MarkdownPath })
        {
            string text = File.ReadAllText(page);
            Assert.Contains(Classifier.ExpectedParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
            Assert.Contains("99.1 %", text);        // blog test accuracy
            Assert.Contains("48.43", text);         // blog FID of random images
            Assert.Contains("0.30", text);          // blog FID of the validation split
            Assert.Contains("12 s", text);          // training time (12.4 s)
            Assert.Contains("median KS distance", text);
        }
    }

    [Fact]
    public void Write_NormalityCsv_HasOneRowPerFeature()
    {
        string[] lines = File.ReadAllLines(fixture.Result.NormalityCsvPath);
        Assert.Equal("feature,mean,std,skewness,excess_kurtosis,ks_distance", lines[0]);
        Assert.Equal(Classifier.FeatureDim, lines.Length - 1);
        Assert.Equal(Classifier.FeatureDim, fixture.Result.Normality.Count);
        Assert.Equal(200, fixture.Result.NormalitySummary.SampleSize);
    }

    [Fact]
    public void Write_LeavesNoTemporaryFiles()
    {
        Assert.Empty(System.IO.Directory.GetFiles(fixture.Directory, "*.tmp"));
    }
}
