using LatentDiffusion.Data;

namespace LatentDiffusion.Tests.Cli;

/// <summary><c>ldm data colored-mnist</c> and the dataset options of the train commands, as processes: outputs, exit codes, one-line errors.</summary>
[Collection("Torch")]
public sealed class DataCommandTests
{
    static void AssertOneLineError(LdmProcess.Result r, int exitCode, string contains) => LdmProcess.AssertOneLineError(r, exitCode, contains);

    [Fact]
    public void ColoredMnist_WritesAFolderThatClassifierTrainReads()
    {
        using var dir = new TempDirectory();
        string idx = SyntheticData.WriteIdxDirectory(dir.File("idx"), SyntheticData.Dataset(60, 20));
        var made = LdmProcess.Run(["data", "colored-mnist", "--data", idx, "--out", dir.File("colored"), "--seed", "4", "--json"]);
        Assert.True(made.ExitCode == 0, made.Stderr);
        Assert.Contains("\"train\":60", made.Stdout);
        Assert.Equal(10, Directory.GetDirectories(dir.File("colored/train")).Length);

        var train = LdmProcess.Run(["classifier", "train", "--data", dir.File("colored"), "--epochs", "1", "--batch-size", "32", "--out", dir.File("run"), "--json"], timeoutSeconds: 300);
        Assert.True(train.ExitCode == 0, train.Stderr);
        Assert.Contains("RGB at 32x32", train.Stderr);
        string config = File.ReadAllText(dir.File("run/config.json"));
        Assert.Contains("\"Channels\": 3", config);
        Assert.Contains("\"ClassNames\"", config);

        var evaluate = LdmProcess.Run(["classifier", "evaluate", "--model", dir.File("run/model.safetensors"), "--data", dir.File("colored"), "--json"], timeoutSeconds: 300);
        Assert.True(evaluate.ExitCode == 0, evaluate.Stderr);
        AssertOneLineError(LdmProcess.Run(["classifier", "evaluate", "--model", dir.File("run/model.safetensors"), "--data", idx]), 1, "does not fit the data");
        var fid = LdmProcess.Run(["fid", dir.File("colored") + ":train", dir.File("colored") + ":test", "--classifier", dir.File("run/model.safetensors"), "--json"], timeoutSeconds: 300);
        Assert.True(fid.ExitCode == 0, fid.Stderr);
        Assert.Contains("\"fid\":", fid.Stdout);
    }

    [Fact]
    public void BadDataOptions_AreOneLineWithTheCliExitCodes()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("empty"));
        AssertOneLineError(LdmProcess.Run(["classifier", "train", "--data", dir.File("empty"), "--out", dir.File("r1")]), 1, "empty");
        AssertOneLineError(LdmProcess.Run(["classifier", "train", "--resolution", "48", "--out", dir.File("r2")]), 2, "--resolution");
        AssertOneLineError(LdmProcess.Run(["vae", "train", "--channels", "2", "--out", dir.File("r3")]), 2, "--channels");
        AssertOneLineError(LdmProcess.Run(["classifier", "train", "--data", dir.File("nowhere"), "--out", dir.File("r4")]), 1, "not a dataset name");
        AssertOneLineError(LdmProcess.Run(["data", "colored-mnist", "--out", dir.File("c"), "--limit", "0"]), 2, "--limit");
        Assert.False(Directory.Exists(dir.File("r1")) && Directory.EnumerateFiles(dir.File("r1")).Any());
        Assert.False(Directory.Exists(dir.File("c")));
    }
}
