using System.Globalization;
using System.Text.RegularExpressions;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

/// <summary>One report written once, with untrained seeded models (saved to files, to be hashed) and 300 + 200 synthetic images.</summary>
public sealed class Part2ReportFixture : IDisposable
{
    readonly TempDirectory temp = new();

    public string Directory => Path.Combine(temp.Path, "report");
    public Part2ReportConfig Config { get; } = new();
    public Part2ReportInputs Inputs { get; }
    public Part2ReportResult Result { get; }
    public bool ModelsStillTraining { get; }

    public static readonly GeneratorFidRow[] FidRows =
    [
        new("Validation", "the 200 test images", 0.51, 0.67, 0.0106, 1.0, BlogPart1.FidValidation),
        new("Random", "200 Gaussian noise images", 48.12, 40.2, 1.0, 94.35, BlogPart1.FidRandom),
        new("VAE samples", "200 decodes of z ~ N(0, I)", 12.34, 9.87, 0.2564, 24.2, BlogPart2.FidVae),
    ];

    public Part2ReportFixture()
    {
        manual_seed(0);
        var ae = new ConvAutoencoder();
        var vae = new Vae();
        string aePath = temp.File("autoencoder.safetensors"), vaePath = temp.File("vae.safetensors");
        ModelWeights.Save(ae, aePath);
        ModelWeights.Save(vae, vaePath);
        MnistData data = SyntheticData.Dataset(train: 300, test: 200);
        List<EpochLog> aeHistory = [new(1, 30.5, 25.1, 4.1, []), new(2, 20.2, 18.9, 8.2, []), new(3, 15.3, 14.8, 12.4, [])];
        List<EpochLog> vaeHistory =
        [
            new(1, 45.0, 44.0, 5.0, [new("val_rec", 35.0), new("val_kl", 9.0), new("train_rec", 36.0), new("train_kl", 9.0)]),
            new(2, 40.0, 39.5, 10.0, [new("val_rec", 30.5), new("val_kl", 9.0), new("train_rec", 31.0), new("train_kl", 9.0)]),
        ];
        Inputs = new Part2ReportInputs(ae, vae, data)
        {
            AutoencoderPath = aePath, VaePath = vaePath, AutoencoderHistory = aeHistory, VaeHistory = vaeHistory, FidRows = FidRows,
        };
        ae.train();
        vae.train();
        Result = Part2Report.Write(Inputs, Directory, Config);
        ModelsStillTraining = ae.training && vae.training;
    }

    public void Dispose()
    {
        Inputs.Autoencoder.Dispose();
        Inputs.Vae.Dispose();
        temp.Dispose();
    }
}

[Collection("Torch")]
public class Part2ReportTests(Part2ReportFixture fixture) : IClassFixture<Part2ReportFixture>
{
    static readonly string[] Names =
    [
        "ae_loss.png", "ae_reconstructions.png", "ae_samples.png", "ae_latent_scatter.png", "ae_lda.png",
        "vae_loss.png", "vae_reconstructions.png", "vae_samples.png", "vae_latent_scatter.png", "vae_lda.png", "interpolation.png",
    ];

    public static readonly TheoryData<string> FigureNames = new(Names);

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
        Assert.Equal((c.PlotWidth, c.PlotHeight), (Get("ae_loss.png").Width, Get("ae_loss.png").Height));
        Assert.Equal((2 * c.PanelWidth, c.PlotHeight), (Get("vae_loss.png").Width, Get("vae_loss.png").Height));
        foreach (string scatter in new[] { "ae_latent_scatter.png", "ae_lda.png", "vae_latent_scatter.png", "vae_lda.png" })
            Assert.Equal((c.ScatterWidth, c.ScatterHeight), (Get(scatter).Width, Get(scatter).Height));
        int cell = 32 * c.DigitScale;
        // 2 × 8 reconstructions, 4 × 8 samples, 2 × (start + 10 steps + end) interpolations, plus gaps and labels.
        foreach (string grid in new[] { "ae_reconstructions.png", "vae_reconstructions.png" })
            Assert.True(Get(grid).Width > c.ReconstructionCount * cell && Get(grid).Height > 2 * cell, grid);
        foreach (string grid in new[] { "ae_samples.png", "vae_samples.png" })
            Assert.True(Get(grid).Width > c.SampleColumns * cell && Get(grid).Height > c.SampleRows * cell, grid);
        Assert.True(Get("interpolation.png").Width > (c.InterpolationSteps + 2) * cell && Get("interpolation.png").Height > 2 * cell);
        Assert.All(fixture.Result.Figures.Where(f => !f.FileName.Contains("loss") && !f.FileName.Contains("scatter") && !f.FileName.Contains("lda")),
            f => Assert.True(f.IsImageGrid, $"{f.FileName} should scale without smoothing"));
    }

    [Fact]
    public void Write_Directory_HoldsTheFiguresAndPagesOnly()
    {
        // No temporary file left, and none of the post's own images: only what the report made.
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
            Assert.DoesNotContain("://", link);
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
    public void Pages_ShowTheFidTableRowsAndThePostsValues()
    {
        foreach (string page in new[] { fixture.Result.IndexPath, fixture.Result.MarkdownPath })
        {
            string text = File.ReadAllText(page);
            foreach (string column in new[] { "FID preact", "FID flatten", "ratio to Random", "ratio to Validation", "post FID", "post ratio to Random" })
                Assert.Contains(column, text);
            foreach (GeneratorFidRow row in Part2ReportFixture.FidRows)
            {
                Assert.Contains(row.Name, text);
                Assert.Contains(row.FidPreact.ToString("F2", CultureInfo.InvariantCulture), text);
                Assert.Contains(row.FidFlatten.ToString("F2", CultureInfo.InvariantCulture), text);
            }
            Assert.Contains("63.49", text);                               // the VAE's FID in part 3
            Assert.Contains((63.49 / 48.43).ToString("F4", CultureInfo.InvariantCulture), text);
        }
    }

    [Fact]
    public void Pages_ShowTheModelsAndTrainingTime()
    {
        string aeSha = ModelWeights.Sha256(fixture.Inputs.AutoencoderPath!), vaeSha = ModelWeights.Sha256(fixture.Inputs.VaePath!);
        Assert.Equal(aeSha, fixture.Result.AutoencoderSha256);
        Assert.Equal(vaeSha, fixture.Result.VaeSha256);
        foreach (string page in new[] { fixture.Result.IndexPath, fixture.Result.MarkdownPath })
        {
            string text = File.ReadAllText(page);
            Assert.Contains(aeSha, text);
            Assert.Contains(vaeSha, text);
            Assert.Contains(ConvAutoencoder.ExpectedParameterCount.ToString(CultureInfo.InvariantCulture), text);
            Assert.Contains(Vae.ExpectedParameterCount.ToString(CultureInfo.InvariantCulture), text);
            Assert.Contains("Training time", text);
            Assert.Contains("12 s", text);                                // the autoencoder's 12.4 s
            Assert.Contains("10 s", text);                                // the VAE's 10.0 s
            Assert.Contains("nearest-centroid accuracy", text);
        }
    }

    [Fact]
    public void Write_Result_RecordsWhatItMeasured()
    {
        var r = fixture.Result;
        Assert.Equal(fixture.Config.ReconstructionCount, r.Shown.Distinct().Count());
        Assert.All(r.Shown, i => Assert.InRange(i, 0, fixture.Inputs.Data.Test.Count - 1));
        Assert.True(double.IsFinite(r.AutoencoderShownSse) && r.AutoencoderShownSse >= 0);
        Assert.True(double.IsFinite(r.VaeShownSse) && r.VaeShownSse >= 0);
        Assert.InRange(r.AutoencoderLdaAccuracy!.Value, 0, 1);
        Assert.InRange(r.VaeLdaAccuracy!.Value, 0, 1);
        Assert.Empty(r.Notes);
        Assert.True(fixture.ModelsStillTraining, "Write must leave the models in the mode it found them in");
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Write_WithoutHistoriesOrFid_SkipsTheLossFiguresWithNotes()
    {
        using var dir = new TempDirectory();
        List<EpochLog> notAVaeHistory = [new(1, 30.5, 25.1, 4.1, [])];
        var inputs = fixture.Inputs with { AutoencoderHistory = null, VaeHistory = notAVaeHistory, FidRows = null, AutoencoderPath = null, VaePath = null };
        var config = fixture.Config with { SampleRows = 1, ReconstructionCount = 4 };
        Part2ReportResult result = Part2Report.Write(inputs, dir.Path, config);

        Assert.DoesNotContain(result.Figures, f => f.FileName is "ae_loss.png" or "vae_loss.png");
        Assert.False(File.Exists(dir.File("ae_loss.png")));
        Assert.Contains(result.Notes, n => n.Contains("ae_loss.png") && n.Contains("No autoencoder history"));
        Assert.Contains(result.Notes, n => n.Contains("vae_loss.png") && n.Contains("val_rec"));
        Assert.Contains(result.Notes, n => n.Contains("FID"));
        string markdown = File.ReadAllText(result.MarkdownPath);
        Assert.Contains("Not computed in this run", markdown);
        Assert.Contains("(not from a file)", markdown);
        Assert.Null(result.AutoencoderSha256);
        Assert.Empty(System.IO.Directory.GetFiles(dir.Path, "*" + AtomicFile.TempSuffix));
    }
}
