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
}
