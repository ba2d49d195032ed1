using System.CommandLine;
using LatentDiffusion.Cli;
using LatentDiffusion.Cli.Commands;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

[Collection("Torch")]
public class ReportCommandTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), $"ldm-report-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    static int Run(params string[] args)
    {
        var command = new RootCommand("test");
        command.Subcommands.Add(ClassifierCommand.Create());
        return CliApp.Run(command, args);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void Report_WithoutHistory_WritesTheReportAndSkipsLossWithANote()
    {
        manual_seed(1);
        string model = Path.Combine(root, "run", "model.safetensors");
        using (var classifier = new Classifier()) ModelWeights.Save(classifier, model);
        string data = Path.Combine(root, "mnist");
        SyntheticData.WriteIdxDirectory(data, SyntheticData.Dataset(train: 20, test: 100));
        string outDir = Path.Combine(root, "report");

        int exit = Run("classifier", "report", "--model", model, "--data", data, "--out", outDir, "--json");

        Assert.Equal(CliApp.Ok, exit);
        Assert.True(File.Exists(Path.Combine(outDir, "index.html")));
        Assert.True(File.Exists(Path.Combine(outDir, "report.md")));
        Assert.True(File.Exists(Path.Combine(outDir, "samples.png")));
        Assert.False(File.Exists(Path.Combine(outDir, "loss.png")));
        Assert.Contains("No training history", File.ReadAllText(Path.Combine(outDir, "report.md")));
        Assert.DoesNotContain("src=\"loss.png\"", File.ReadAllText(Path.Combine(outDir, "index.html")));
    }

    [Fact]
    public void Report_WithoutOut_IsAUsageError()
    {
        Assert.Equal(CliApp.Usage, Run("classifier", "report", "--model", "whatever.safetensors"));
    }

    [Fact]
    public void Report_MissingModel_FailsWithoutWriting()
    {
        string outDir = Path.Combine(root, "never");
        Assert.Equal(CliApp.Failure, Run("classifier", "report", "--model", Path.Combine(root, "missing.safetensors"), "--out", outDir));
        Assert.False(Directory.Exists(outDir));
    }
}
