using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

/// <summary>
/// One report written once from fakes: 100 synthetic test images, 80 random "samples" with a 3-step trajectory, two
/// small files standing in for the model and the VAE (to be hashed), a history, a census and FID rows in
/// <see cref="GeneratorFid"/>'s order (Validation first), not the post's.
/// </summary>
public sealed class Part3ReportFixture : IDisposable
{
    readonly TempDirectory temp = new();

    public string Directory => Path.Combine(temp.Path, "report");
    public Part3ReportConfig Config { get; } = new();
    public Part3ReportInputs Inputs { get; }
    public Part3ReportResult Result { get; }

    public static readonly GeneratorFidRow[] FidRows =
    [
        new("Validation", "the 100 test images", 0.51, 0.67, 0.0106, 1.0, BlogPart1.FidValidation),
        new("Random", "100 Gaussian noise images", 48.12, 40.21, 1.0, 94.35, BlogPart1.FidRandom),
        new("VAE", "100 samples of part 2's VAE", 31.77, 27.04, 0.6602, 62.29, BlogPart2.FidVae),
        new("Diffusion", "80 DDPM samples", 7.13, 5.86, 0.1482, 13.98, BlogPart3.FidDiffusion),
        new("Latent VAE reconstructions", "the floor of the diffusion row", 1.96, 1.52, 0.0407, 3.84, null),
    ];

    public static readonly DigitCensus Census = new(
        [10, 9, 8, 7, 6, 10, 8, 8, 7, 7], [0.125, 0.1125, 0.1, 0.0875, 0.075, 0.125, 0.1, 0.1, 0.0875, 0.0875], 0.8771,
        Enumerable.Repeat(0.1, 10).ToArray());

    public static readonly IReadOnlyList<EpochLog> History = [new(10, 0.2412, 0.2388, 61.0, []), new(20, 0.2305, 0.2331, 122.0, []), new(30, 0.2287, 0.2301, 183.4, [])];

    public Part3ReportFixture()
    {
        manual_seed(0);
        string modelPath = temp.File("diffusion.safetensors"), vaePath = temp.File("latent-vae.safetensors");
        File.WriteAllText(modelPath, "not really a diffusion model");
        File.WriteAllText(vaePath, "not really a VAE");
        var samples = new LatentSamples(rand(80, 1, 32, 32), randn(80, 4, 4, 4),
            [(334, rand(8, 1, 32, 32)), (667, rand(8, 1, 32, 32)), (1000, rand(8, 1, 32, 32))]);
        Inputs = new Part3ReportInputs(SyntheticData.Dataset(train: 100, test: 100), new DiffusionConfig { VaeSha256 = ModelWeights.Sha256(vaePath) }, samples)
        {
            ModelPath = modelPath, VaePath = vaePath, History = History, FidRows = FidRows, Census = Census,
            SampleSeconds = 12.5, SampleCount = 80, Seed = 3, UNetDescription = "UNet (64, 128), 654321 parameters",
        };
        Result = Part3Report.Write(Inputs, Directory, Config);
    }

    public void Dispose()
    {
        Inputs.Samples.Dispose();
        temp.Dispose();
    }
}

[Collection("Torch")]
public class Part3ReportTests(Part3ReportFixture fixture) : IClassFixture<Part3ReportFixture>
{
    static readonly string[] Names = ["forward_noising.png", "alpha_bar_schedule.png", "loss.png", "samples.png", "trajectory.png", "census.png"];

    public static readonly TheoryData<string> FigureNames = new(Names);

    static string Text(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>index.html with entities decoded (it encodes ÷, é and the like), and report.md as written.</summary>
    static IEnumerable<(string Path, string Text)> Pages(Part3ReportResult result) =>
    [
        (result.IndexPath, WebUtility.HtmlDecode(File.ReadAllText(result.IndexPath))),
        (result.MarkdownPath, File.ReadAllText(result.MarkdownPath)),
    ];

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
        Assert.False(string.IsNullOrWhiteSpace(figure.Caption));
    }

    [Fact]
    public void Write_FigureSizes_FollowTheConfig()
    {
        var c = fixture.Config;
        ReportFigure Get(string name) => fixture.Result.Figures.Single(f => f.FileName == name);
        foreach (string chart in new[] { "alpha_bar_schedule.png", "loss.png", "census.png" })
            Assert.Equal((c.PlotWidth, c.PlotHeight, false), (Get(chart).Width, Get(chart).Height, Get(chart).IsImageGrid));
        int cell = 32 * c.DigitScale;
        // Cells plus gaps and labels: 4 digits × 8 times, 6 × 12 samples, 8 samples × 3 steps.
        (string Name, int Columns, int Rows)[] grids =
            [("forward_noising.png", c.NoisingTimes.Count, c.NoisedDigits.Count), ("samples.png", c.SampleColumns, c.SampleRows), ("trajectory.png", 3, 8)];
        foreach (var (name, columns, rows) in grids)
        {
            ReportFigure figure = Get(name);
            Assert.True(figure.Width > columns * cell && figure.Height > rows * cell, $"{name} is {figure.Width}×{figure.Height}");
            Assert.True(figure.Height < (rows + 2) * cell, $"{name} is {figure.Width}×{figure.Height}: too many rows");   // the title may be wider than the cells
            Assert.True(figure.IsImageGrid, $"{name} should scale without smoothing");
        }
    }

    [Fact]
    public void Write_Directory_HoldsTheFiguresAndPagesOnly()
    {
        string[] expected = [.. Names, Page.IndexName, Page.MarkdownName];
        string[] present = System.IO.Directory.GetFiles(fixture.Directory).Select(f => Path.GetFileName(f)!).ToArray();
        Assert.Equal(expected.Order(StringComparer.Ordinal), present.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Index_LinksEveryFigureAndOnlyFilesThatExist()
    {
        string html = File.ReadAllText(fixture.Result.IndexPath);
        string[] links = Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray();
        foreach (string link in links)
        {
            Assert.False(Path.IsPathRooted(link), $"{link} is not relative");
            Assert.True(File.Exists(Path.Combine(fixture.Directory, link)), $"index.html links {link}, which does not exist");
        }
        foreach (string name in Names) Assert.Contains(name, links);
        Assert.DoesNotContain("http", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Markdown_LinksEveryFigureAndOnlyFilesThatExist()
    {
        string markdown = File.ReadAllText(fixture.Result.MarkdownPath);
        string[] links = Regex.Matches(markdown, @"\]\(([^)]*)\)").Select(m => m.Groups[1].Value).ToArray();
        foreach (string link in links) Assert.True(File.Exists(Path.Combine(fixture.Directory, link)), $"report.md links {link}, which does not exist");
        foreach (string name in Names) Assert.Contains(name, links);
    }

    [Fact]
    public void Pages_ShowEveryFidRowInThePostsOrder()
    {
        foreach (var (page, text) in Pages(fixture.Result))
        {
            foreach (string column in new[] { "FID preact", "FID flatten", "÷ Random", "÷ Validation", "post FID", "post ÷ Validation" })
                Assert.Contains(column, text);
            int[] positions = Part3ReportFixture.FidRows.Select(row =>
            {
                // The row's cells, as the table writes them; its name alone also appears in the descriptions below.
                int at = text.IndexOf($"{row.Name}</td><td>{Text(row.FidPreact, "F2")}", StringComparison.Ordinal);
                if (at < 0) at = text.IndexOf($"| {row.Name} | {Text(row.FidPreact, "F2")} |", StringComparison.Ordinal);
                Assert.True(at >= 0, $"{page} lacks the {row.Name} row");
                Assert.Contains(Text(row.FidFlatten, "F2"), text);
                return at;
            }).ToArray();
            // Fixture order: Validation, Random, VAE, Diffusion, floor; the post's: Random, VAE, Diffusion, Validation, then the rest.
            int[] postOrder = [positions[1], positions[2], positions[3], positions[0], positions[4]];
            Assert.Equal(postOrder.Order(), postOrder);
            Assert.Contains(Text(BlogPart3.FidDiffusion, "F2"), text);
            Assert.Contains(Text(BlogPart3.FidDiffusion / BlogPart1.FidValidation, "F2"), text);   // the post's 6.02 ÷ 0.30 = 20.07
        }
    }

    [Fact]
    public void Pages_ShowTheModelsSamplingAndCensus()
    {
        string modelSha = ModelWeights.Sha256(fixture.Inputs.ModelPath!), vaeSha = ModelWeights.Sha256(fixture.Inputs.VaePath!);
        Assert.Equal(modelSha, fixture.Result.ModelSha256);
        Assert.Equal(vaeSha, fixture.Result.VaeSha256);
        foreach (var (_, text) in Pages(fixture.Result))
        {
            Assert.Contains(modelSha, text);
            Assert.Contains(vaeSha, text);
            Assert.Contains("the VAE the model was trained on", text);
            Assert.Contains("UNet (64, 128), 654321 parameters", text);
            Assert.Contains("80 digits in 12 s", text);
            Assert.Contains("x̂₀ not clipped; seed 3", text);
            Assert.Contains("183 s", text);                                                     // training time, from the history
            Assert.Contains(Text(Part3ReportFixture.Census.TotalVariation, "F3"), text);
            Assert.Contains("87.7 %", text);                                                    // mean confidence
            Assert.Contains("12.5 %", text);                                                    // the share of 0s
            Assert.Contains("0.2287", text);                                                    // the final train loss
            Assert.Contains("not comparable", text);
        }
        Assert.Empty(fixture.Result.Notes);
    }

    [Fact]
    public void Write_NoisedDigits_AreTheFirstTestImageOfEachDigit()
    {
        byte[] labels = fixture.Inputs.Data.Test.Labels;
        Assert.Equal(fixture.Config.NoisedDigits.Count, fixture.Result.NoisedIndices.Count);
        for (int k = 0; k < fixture.Result.NoisedIndices.Count; k++)
            Assert.Equal(Array.IndexOf(labels, (byte)fixture.Config.NoisedDigits[k]), fixture.Result.NoisedIndices[k]);
    }

    [Fact]
    public void ForwardProcess_KeepsX0AtTimeZeroAndEndsInUnitGaussianNoise()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        using Tensor x0 = rand(4, 1, 32, 32);
        int[] times = [0, 100, 1000];
        using Tensor noised = Part3Report.ForwardProcess(schedule, x0, times, seed: 5);
        using Tensor again = Part3Report.ForwardProcess(schedule, x0, times, seed: 5);
        using Tensor other = Part3Report.ForwardProcess(schedule, x0, times, seed: 6);

        Assert.Equal(new long[] { 12, 1, 32, 32 }, noised.shape);
        Assert.True(noised.equal(again).all().item<bool>(), "the same seed must give the same noise");
        Assert.False(noised.equal(other).all().item<bool>(), "another seed must give other noise");
        using Tensor grid = noised.reshape(4, 3, 1, 32, 32);                                   // digit-major
        using Tensor originals = grid.select(1, 0), atT = grid.select(1, 2);
        Assert.True(originals.equal(x0).all().item<bool>(), "t = 0 must be x₀ itself");
        // x_T = √ᾱ_T x₀ + √(1 − ᾱ_T) ε with ᾱ_T = 4e-5: ε to within 0.01, so mean ≈ 0 and std ≈ 1 over 4096 pixels.
        Assert.InRange(atT.mean().item<float>(), -0.1f, 0.1f);
        Assert.InRange(atT.std().item<float>(), 0.9f, 1.1f);
    }

    [Fact]
    public void Write_WithoutHistoryTrajectoryCensusOrFid_SkipsThemWithNotes()
    {
        using var dir = new TempDirectory();
        using var samples = new LatentSamples(rand(5, 1, 32, 32), randn(5, 4, 4, 4), []);           // fewer than a 6 × 12 grid
        var inputs = fixture.Inputs with
        {
            Samples = samples, History = null, FidRows = null, Census = null, ModelPath = null, VaePath = null, SampleSeconds = null, SampleCount = null,
        };
        Part3ReportResult result = Part3Report.Write(inputs, dir.Path, fixture.Config);

        string[] drawn = ["forward_noising.png", "alpha_bar_schedule.png", "samples.png"];
        Assert.Equal(drawn, result.Figures.Select(f => f.FileName));
        string[] expected = [.. drawn, Page.IndexName, Page.MarkdownName];
        Assert.Equal(expected.Order(StringComparer.Ordinal), dir.FileNames());
        Assert.Contains(result.Notes, n => n.Contains("loss.png") && n.Contains("No training history"));
        Assert.Contains(result.Notes, n => n.Contains("trajectory.png"));
        Assert.Contains(result.Notes, n => n.Contains("census.png"));
        Assert.Contains(result.Notes, n => n.Contains("FID"));
        foreach (var (_, text) in Pages(result))
        {
            Assert.Contains("Not computed in this run", text);
            Assert.Contains("(not from a file)", text);
            Assert.Contains("5 digits (time not measured)", text);
            foreach (string note in result.Notes) Assert.Contains(note, text);
        }
        Assert.Null(result.ModelSha256);
        Assert.Empty(System.IO.Directory.GetFiles(dir.Path, "*" + AtomicFile.TempSuffix));
    }

    [Fact]
    public void Write_LongTrajectoryAndForeignVae_ShowsEvenlySpacedStepsAndWarns()
    {
        using var dir = new TempDirectory();
        var trajectory = Enumerable.Range(1, 7).Select(i => (100 * i, rand(8, 1, 32, 32))).ToList();
        try
        {
            var samples = fixture.Inputs.Samples with { Trajectory = trajectory };
            var inputs = fixture.Inputs with { Samples = samples, Config = fixture.Inputs.Config with { VaeSha256 = new string('0', 64) } };
            Part3ReportResult result = Part3Report.Write(inputs, dir.Path, fixture.Config with { TrajectoryColumns = 4, TrajectoryRows = 2 });

            ReportFigure figure = Assert.Single(result.Figures, f => f.FileName == "trajectory.png");
            Assert.Contains("after 100, 300, 500, 700 of the 1000 steps", figure.Caption);
            Assert.Contains("first 2 samples", figure.Caption);
            Assert.Contains(result.Notes, n => n.Contains("not the one the model was trained on"));
            Assert.Contains("NOT the VAE the model was trained on", File.ReadAllText(result.MarkdownPath));
        }
        finally
        {
            foreach (var (_, images) in trajectory) images.Dispose();
        }
    }

    [Fact]
    public void Write_NoisingTimeBeyondT_Throws()
    {
        using var dir = new TempDirectory();
        var config = fixture.Config with { NoisingTimes = [0, 1001] };
        Assert.Throws<ArgumentOutOfRangeException>(() => Part3Report.Write(fixture.Inputs, dir.Path, config));
        Assert.Empty(dir.FileNames());
    }
}
