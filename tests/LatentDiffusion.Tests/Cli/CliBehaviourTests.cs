namespace LatentDiffusion.Tests.Cli;

/// <summary>The CLI's contract, through the real executable: exit codes, one-line errors, JSON last.</summary>
[Collection("Torch")]
public sealed class CliBehaviourTests
{
    [Fact]
    public void UnknownCommand_IsAUsageError()
    {
        var r = LdmProcess.Run(["bogus"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bogus", r.Stderr);
    }

    [Fact]
    public void MissingModel_IsOneLineNamingTheFile()
    {
        var r = LdmProcess.Run(["classifier", "evaluate", "--model", "/nonexistent/m.safetensors"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("/nonexistent/m.safetensors", r.Stderr);
        AssertOneLineNoTrace(r.Stderr);
    }

    [Fact]
    public void HugeLearningRate_FailsWithTheDivergedMessage()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(200, 50));
        string run = dir.File("run");
        var r = LdmProcess.Run(["classifier", "train", "--data", data, "--out", run, "--epochs", "2", "--lr", "1e6"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("diverged", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
    }

    [Fact]
    public void Info_Json_IsTheLastStdoutLine()
    {
        var r = LdmProcess.Run(["info", "--json"]);
        Assert.Equal(0, r.ExitCode);
        string last = r.Stdout.TrimEnd().Split('\n')[^1];
        using var json = System.Text.Json.JsonDocument.Parse(last);
        Assert.Equal(16554, json.RootElement.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void CorruptDataFile_IsOneLineNamingIt()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(50, 20));
        string images = Path.Combine(data, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..1000]);
        var r = LdmProcess.Run(["classifier", "train", "--data", data, "--epochs", "1", "--out", dir.File("run")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(images, r.Stderr);
        AssertOneLineNoTrace(r.Stderr);
    }

    static void AssertOneLineNoTrace(string stderr)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.StartsWith("ldm: error:"));
        Assert.DoesNotContain("   at ", stderr);
    }
}
