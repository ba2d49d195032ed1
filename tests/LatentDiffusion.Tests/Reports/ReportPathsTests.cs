using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Reports;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

public sealed class ReportPathsTests
{
    const string Root = "/home/someone/LatentDiffusion";

    [Theory]
    [InlineData("/home/someone/LatentDiffusion/models/vae.safetensors", "models/vae.safetensors")]
    [InlineData("/home/someone/LatentDiffusion/data/mnist", "data/mnist")]
    [InlineData("/home/someone/LatentDiffusion/data/mnist/", "data/mnist")]
    [InlineData("/home/someone/LatentDiffusion/runs/../models/ae.safetensors", "models/ae.safetensors")]
    public void Display_InsideTheRepository_IsRelativeToItsRoot(string path, string expected) =>
        Assert.Equal(expected, ReportPaths.Display(path, Root));

    [Theory]
    [InlineData("/tmp/ldm/vae.safetensors")]
    [InlineData("/home/someone/LatentDiffusion2/models/vae.safetensors")]   // a sibling whose name starts with the root's
    [InlineData("/home/someone/..models/vae.safetensors")]
    [InlineData("models/vae.safetensors")]                                    // relative: names no machine
    [InlineData("synthetic")]
    public void Display_OutsideTheRepositoryOrRelative_IsAsGiven(string path) =>
        Assert.Equal(path, ReportPaths.Display(path, Root));

    [Fact]
    public void Display_WithoutARepository_IsAsGiven() =>
        Assert.Equal("/home/someone/LatentDiffusion/models/vae.safetensors", ReportPaths.Display("/home/someone/LatentDiffusion/models/vae.safetensors", null));

    [Fact]
    public void InText_DropsTheRootBeforeEveryPathUnderIt()
    {
        string text = "10000 samples of part 2's VAE (/home/someone/LatentDiffusion/models/vae.safetensors) decoded by " +
                      "/home/someone/LatentDiffusion/models/latent-vae.safetensors; /home/someone/LatentDiffusion2/x stays";
        Assert.Equal("10000 samples of part 2's VAE (models/vae.safetensors) decoded by models/latent-vae.safetensors; " +
                     "/home/someone/LatentDiffusion2/x stays", ReportPaths.InText(text, Root));
    }

    [Fact]
    public void Display_Default_UsesTheCheckoutTheTestsRunFrom()
    {
        string root = RepositoryPaths.Root ?? throw new InvalidOperationException("the tests run from a checkout");
        Assert.Equal("models/vae.safetensors", ReportPaths.Display(Path.Combine(root, "models", "vae.safetensors")));
    }
}

/// <summary>A written report names the files it came from relative to the repository, in index.html and report.md alike.</summary>
[Collection("Torch")]
public sealed class ReportPathsPageTests
{
    [Fact]
    public void ConditionalReport_ModelInsideTheRepository_IsNamedRelativeToIt()
    {
        string root = RepositoryPaths.Root ?? throw new InvalidOperationException("the tests run from a checkout");
        using var dir = new TempDirectory();
        DigitGrade[] grades = Enumerable.Range(0, 10).Select(d => new DigitGrade(d, 4, 3, 0.9, 20 + d)).ToArray();
        manual_seed(0);
        using Tensor grid = rand(10, 1, 32, 32);
        var inputs = new ConditionalReportInputs([new GuidanceRow(1, grades, 1.5), new GuidanceRow(3, grades, 1.5)], grid, 3)
        {
            ModelPath = Path.Combine(root, "models", "conditional.safetensors"),
            Sampler = "α-deblending 50 Euler steps",
        };
        ConditionalReport.Write(inputs, dir.Path);
        foreach (string page in new[] { Page.IndexName, Page.MarkdownName })
        {
            string text = File.ReadAllText(dir.File(page));
            Assert.Contains("Model models/conditional.safetensors;", text);
            Assert.DoesNotContain(root, text);
        }
    }
}
