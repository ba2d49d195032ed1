using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.Reports;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

[Collection("Torch")]
public sealed class ConditionalReportTests
{
    /// <summary>The sweep table shows the means over the digits of the metrics beyond FID; the per-digit table each digit's, beside the test digits'.</summary>
    [Fact]
    public void Write_GradesWithMetrics_ShowsMeansAndPerDigitValues()
    {
        using var dir = new TempDirectory();
        var config = new ManifoldConfig();
        DigitGrade Grade(int d, double coverage) => new(d, 4, 3, 0.9, 20 + d)
        {
            Manifold = new ManifoldResult(0.5, 0.25, 0.75, coverage, 6000, 1000, config, 1),
            MemorisedFraction = 0.002,
        };
        DigitGrade[] grades = Enumerable.Range(0, 10).Select(d => Grade(d, 0.1 * (d % 2))).ToArray();   // coverage 0, 0.1, 0, 0.1, …: mean 0.05
        DigitGrade[] test = Enumerable.Range(0, 10).Select(d => Grade(d, 0.9) with { MemorisedFraction = 0.01 }).ToArray();
        manual_seed(0);
        using Tensor grid = rand(10, 1, 32, 32);
        ConditionalReport.Write(new ConditionalReportInputs([new GuidanceRow(1, grades, 1.5)], grid, 1) { TestDigits = test }, dir.Path);
        string text = File.ReadAllText(dir.File(Page.MarkdownName));
        Assert.Contains("| coverage | memorised |", text);
        Assert.Contains("| 0.500 | 0.250 | 0.750 | 0.050 | 0.002 |", text);   // the sweep row: means over the digits
        Assert.Contains("| 0.500 | 0.250 | 0.750 | 0.100 | 0.002 |", text);   // digit 1's own row
        Assert.Contains("0.500 / 0.250 / 0.750 / 0.900 / 0.010", text);         // beside it, the test digits'
    }

    /// <summary>
    /// Another dataset's report names its classes (title, per-class rows) and shows each class's goal: the real test
    /// images' share read as labelled beside the generated share, and their difference in points.
    /// </summary>
    [Fact]
    public void Write_NamedClasses_NamesThemAndShowsEachClassAgainstItsRealImages()
    {
        using var dir = new TempDirectory();
        string[] names = ["t-shirt-top", "trouser", "pullover"];
        var info = new DatasetInfo("Fashion-MNIST", "/data", 1, 32, names, new string('b', 64), "the IDX files");
        DigitGrade[] grades = [new(0, 10, 8, 0.8, 30), new(1, 10, 10, 0.99, 20), new(2, 10, 9, 0.9, 25)];
        DigitGrade[] test = [new(0, 100, 85, 0.8, 2), new(1, 100, 98, 0.97, 2), new(2, 100, 86, 0.85, 2)];
        manual_seed(0);
        using Tensor grid = rand(6, 1, 32, 32);   // 2 per class
        ConditionalReport.Write(new ConditionalReportInputs([new GuidanceRow(3, grades, 1.5)], grid, 3)
        {
            TestDigits = test, Words = ClassWords.For(info), DataName = info.Name,
        }, dir.Path);
        string text = File.ReadAllText(dir.File(Page.MarkdownName));
        Assert.Contains("Ask for a class of Fashion-MNIST", text);
        Assert.Contains("## Per class at w = 3.0", text);
        Assert.Contains("| class 0 (t-shirt-top) | 8/10 (80.0 %) |", text);
        Assert.Contains("| 85.0 % | −5.0 |", text);    // t-shirts: 80 % generated against 85 % real, below the goal of −2
        Assert.Contains("| 98.0 % | +2.0 |", text);    // trousers
        Assert.Contains("2 images of each class", text);
        Assert.DoesNotContain("digit", text);
        Assert.True(File.Exists(dir.File("balanced_grid.png")));
    }
}
