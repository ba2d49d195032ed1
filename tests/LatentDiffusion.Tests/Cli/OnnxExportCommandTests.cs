using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Cli;

/// <summary><c>ldm export --onnx</c> as a user runs it: files and manifest written, bad input one line with exit 1 or 2.</summary>
public sealed class OnnxExportCommandTests
{
    static string Shipped(string file) => RepositoryPaths.Find("models/" + file) ?? throw new FileNotFoundException($"models/{file}");

    [Fact]
    public void Export_Classifier_WritesTheFileAndTheManifest()
    {
        using var dir = new TempDirectory();
        string outDir = dir.File("onnx");
        var r = LdmProcess.Run(["export", "--onnx", outDir, "--model", Shipped("classifier.safetensors"), "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "classifier.onnx")));
        Assert.True(File.Exists(Path.Combine(outDir, "ldm-onnx.json")));
        Assert.Contains("\"kind\":\"classifier\"", r.Stdout.Trim().Split('\n')[^1]);
    }

    [Fact]
    public void Export_ConfigJsonInsteadOfWeights_FailsWithOneLineNamingIt()
    {
        using var dir = new TempDirectory();
        string config = Shipped("conditional.config.json");
        var r = LdmProcess.Run(["export", "--onnx", dir.File("onnx"), "--model", config]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(config, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.File("onnx")));
    }

    [Fact]
    public void Export_MissingModel_FailsWithOneLine()
    {
        using var dir = new TempDirectory();
        var r = LdmProcess.Run(["export", "--onnx", dir.File("onnx"), "--model", dir.File("none.safetensors")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"ldm: error: model file {dir.File("none.safetensors")} does not exist", r.Stderr.Trim());
    }

    [Fact]
    public void Export_WithoutOnnxFolder_IsAUsageError()
    {
        var r = LdmProcess.Run(["export"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--onnx", r.Stderr);
    }
}
