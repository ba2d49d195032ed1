using System.Diagnostics;
using LatentDiffusion.IO;
using LatentDiffusion.Tests.Cli;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>
/// <c>ldm-lite</c> published on its own (<c>dotnet publish -r linux-x64</c>) into a folder that holds no libtorch and no
/// TorchSharp, with the shipped exports (models/onnx) in <c>onnx/</c> beside it, as a user would run it: digits written,
/// bad input one line with exit 1 or 2.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class LdmLiteProcessTests
{
    [Fact]
    public void LdmLite_PublishedWithoutLibtorch_MakesDigitsAndReportsBadInputInOneLine()
    {
        string project = RepositoryPaths.Find("src/LatentDiffusion.Onnx.Cli/LatentDiffusion.Onnx.Cli.csproj") ?? throw new FileNotFoundException("ldm-lite's project");
        using var dir = new TempDirectory();
        string publish = dir.File("publish");
        var build = Run("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", publish, "-v", "quiet", "-nologo"], 600);
        Assert.True(build.Code == 0, build.Output);
        string[] files = Directory.GetFiles(publish, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToArray()!;
        Assert.DoesNotContain(files, f => f.Contains("torch", StringComparison.OrdinalIgnoreCase));   // no libtorch*.so, no TorchSharp.dll
        Assert.Contains("libonnxruntime.so", files);
        Assert.True(File.Exists(Path.Combine(publish, "onnx", "ldm-onnx.json")), "the shipped exports are not beside ldm-lite");
        string lite = Path.Combine(publish, "ldm-lite.dll");

        var ok = LdmProcess.Run(["generate", "--digit", "7", "-n", "4", "--steps", "10", "--out", dir.File("seven.png")], program: lite);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.True(new FileInfo(dir.File("seven.png")).Length > 100);

        var folder = LdmProcess.Run(["generate", "--digit", "3", "-n", "3", "--steps", "5", "--out", dir.File("threes")], program: lite);
        Assert.True(folder.ExitCode == 0, folder.Stderr);
        Assert.Equal(["00000.png", "00001.png", "00002.png"], Directory.GetFiles(dir.File("threes")).Select(Path.GetFileName).Order());

        var noManifest = LdmProcess.Run(["generate", "--digit", "7", "--models", dir.Path, "--out", dir.File("x.png")], program: lite);
        Assert.Equal(1, noManifest.ExitCode);
        Assert.Equal($"ldm-lite: error: {dir.Path}: has no ldm-onnx.json: not a folder written by ldm export --onnx", noManifest.Stderr.Trim());

        var badDigit = LdmProcess.Run(["generate", "--digit", "12"], program: lite);
        Assert.Equal(2, badDigit.ExitCode);
        Assert.StartsWith("ldm-lite: --digit must be 0-9 or 'all' (got '12')", badDigit.Stderr);

        var wrongSampler = LdmProcess.Run(["generate", "--digit", "1", "--sampler", "ddim"], program: lite);
        Assert.Equal(2, wrongSampler.ExitCode);
        Assert.Contains("the ddim sampler does not fit", wrongSampler.Stderr);
        Assert.DoesNotContain("   at ", wrongSampler.Stderr);                                   // never a stack trace

        var wrongKind = LdmProcess.Run(["generate", "--model", "classifier"], program: lite);
        Assert.Equal(1, wrongKind.ExitCode);
        Assert.Equal($"ldm-lite: error: {Path.Combine(publish, "onnx", "classifier.onnx")}: holds a classifier, not a unet", wrongKind.Stderr.Trim());
    }

    static (int Code, string Output) Run(string program, string[] args, int timeoutSeconds)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) info.ArgumentList.Add(a);
        using Process p = Process.Start(info)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(entireProcessTree: true); return (-1, "timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
