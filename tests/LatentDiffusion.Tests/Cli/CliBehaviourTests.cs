using LatentDiffusion.Cli;
using LatentDiffusion.Cli.Commands;
using LatentDiffusion.IO;
using LatentDiffusion.Models;

namespace LatentDiffusion.Tests.Cli;

/// <summary>The CLI's contract, through the real executable: exit codes, one-line errors, JSON last.</summary>
[Collection("Torch")]
public sealed class CliBehaviourTests
{
    [Trait("Category", "Slow")]
    [Fact]
    public void UnknownCommand_IsAUsageError()
    {
        var r = LdmProcess.Run(["bogus"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bogus", r.Stderr);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void MissingModel_IsOneLineNamingTheFile()
    {
        var r = LdmProcess.Run(["classifier", "evaluate", "--model", "/nonexistent/m.safetensors"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("/nonexistent/m.safetensors", r.Stderr);
        AssertOneLineNoTrace(r.Stderr);
    }

    [Trait("Category", "Slow")]
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

    [Trait("Category", "Slow")]
    [Fact]
    public void Info_Json_IsTheLastStdoutLine()
    {
        var r = LdmProcess.Run(["info", "--json"]);
        Assert.Equal(0, r.ExitCode);
        string last = r.Stdout.TrimEnd().Split('\n')[^1];
        using var json = System.Text.Json.JsonDocument.Parse(last);
        Assert.Equal(16554, json.RootElement.GetProperty("parameters").GetInt64());
    }

    [Trait("Category", "Slow")]
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

    /// <summary>ldm's commands, run in-process (usage errors stop before any real work): the exit code and what went to stderr.</summary>
    static (int Code, string Stderr) RunInProcess(params string[] args)
    {
        var root = new System.CommandLine.RootCommand("ldm")
        {
            ClassifierCommand.Create(), AutoencoderCommand.Create(), VaeCommand.Create(), DiffusionCommand.Create(), ReproduceCommand.Create(), FidCommand.Create(), PipelineCommand.Create(),
        };
        TextWriter original = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try { return (CliApp.Run(root, args), captured.ToString()); }
        finally { Console.SetError(original); }
    }

    static string VaeFixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-vae", "vae_state_dict.pt");

    /// <summary>
    /// Option values that cannot work whatever the files hold: usage errors, exit 2, as the README promises, with the
    /// option named on stderr. "{out}" stands for a fresh directory, which must stay empty.
    /// </summary>
    [Theory]
    [InlineData("--epochs", "classifier", "train", "--epochs", "0", "--out", "{out}")]
    [InlineData("--lr", "classifier", "train", "--lr", "nan", "--out", "{out}")]
    [InlineData("--lr", "classifier", "train", "--lr", "-1", "--out", "{out}")]
    [InlineData("--checkpoint-every", "classifier", "train", "--checkpoint-every", "0", "--out", "{out}")]
    [InlineData("--epochs", "reproduce", "part1", "--epochs", "0", "--out", "{out}")]
    [InlineData("--batch-size", "fid", "a", "b", "--batch-size", "0")]
    [InlineData("-o", "fid", "stats", "a", "-o", "{out}/stats.txt")]
    [InlineData("--batch-size", "fid", "baselines", "--batch-size", "-5")]
    [InlineData("--to", "classifier", "export", "--to", "{out}/model.onnx")]
    [InlineData("--kl-weight", "vae", "train", "--kl-weight", "nan", "--out", "{out}")]
    [InlineData("--latent-channels", "vae", "train", "--latent-channels", "0", "--out", "{out}")]
    [InlineData("--nchw", "vae", "train", "--nchw", "--channels-last", "--out", "{out}")]
    [InlineData("--nchw", "autoencoder", "train", "--channels-last", "--nchw", "--out", "{out}")]
    [InlineData("--ema", "diffusion", "train", "--ema", "1", "--out", "{out}")]
    [InlineData("--ema-sweep", "diffusion", "train", "--ema-sweep", "0.99,1", "--out", "{out}")]
    [InlineData("--ema-sweep", "diffusion", "train", "--ema-sweep", "0.99,0.99", "--out", "{out}")]
    [InlineData("--ema-sweep", "diffusion", "train", "--ema-sweep", "x", "--out", "{out}")]
    [InlineData("--ema", "vae", "train", "--ema", "-0.5", "--out", "{out}")]
    [InlineData("--ema-sweep", "autoencoder", "train", "--ema-sweep", "0", "--out", "{out}")]
    [InlineData("--ema-sweep", "classifier", "train", "--ema-sweep", "0.9,2", "--out", "{out}")]
    [InlineData("-n", "diffusion", "sample", "-n", "0", "--out", "{out}/x.png")]
    [InlineData("--timesteps", "diffusion", "train", "--timesteps", "1", "--out", "{out}")]
    [InlineData("--steps", "diffusion", "train", "--steps", "1", "--out", "{out}")]                        // the deprecated spelling still checked
    [InlineData("--steps", "diffusion", "train", "--steps", "20", "--timesteps", "20", "--out", "{out}")]   // one spelling at a time
    public void InvalidOptionValue_IsAUsageErrorNamingTheOption(string option, params string[] args)
    {
        using var dir = new TempDirectory();
        var (code, stderr) = RunInProcess(args.Select(a => a.Replace("{out}", dir.Path)).ToArray());
        Assert.True(code == CliApp.Usage, $"exit {code}: {stderr}");
        Assert.StartsWith($"ldm: {option}", stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    /// <summary>The conv models train channels-last (the measured-faster layout) unless <c>--nchw</c>, and record it.</summary>
    [Fact]
    public void VaeAndAutoencoderTrain_AreChannelsLastUnlessNchw()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(40, 20));
        foreach (string model in new[] { "vae", "autoencoder" })
            foreach ((string? flag, bool channelsLast) in new (string?, bool)[] { (null, true), ("--channels-last", true), ("--nchw", false) })
            {
                string run = dir.File($"{model}{flag}");
                string[] args = ["" + model, "train", "--data", data, "--epochs", "1", "--batch-size", "20", "--out", run];
                var (code, stderr) = RunInProcess(flag is null ? args : [.. args, flag]);
                Assert.True(code == 0, $"{model} {flag}: exit {code}: {stderr}");
                using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
                Assert.Equal(channelsLast, config.RootElement.GetProperty("Model").GetProperty("ChannelsLast").GetBoolean());
            }
    }

    /// <summary><c>--latent-side</c>: 8 trains a VAE with 8x8 latents; a side that no halving of 32 px gives (vae train) or no recipe has (pipeline) is a usage error naming it, before anything is written.</summary>
    [Fact]
    public void LatentSide_EightTrainsEightByEight_AndAnotherIsAUsageError()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(40, 20));
        var (ok, okErr) = RunInProcess("vae", "train", "--data", data, "--epochs", "1", "--batch-size", "20", "--latent-side", "8", "--out", dir.File("side8"));
        Assert.True(ok == 0, okErr);
        using (Vae vae = ModelFile.LoadVae(Path.Combine(dir.File("side8"), "model.safetensors"))) Assert.Equal([4L, 8, 8], vae.LatentShape);
        foreach (string[] args in new[]
        {
            new[] { "vae", "train", "--data", data, "--epochs", "1", "--latent-side", "3", "--out", dir.File("run") },
            new[] { "pipeline", "--data", data, "--latent-side", "16", "--out", dir.File("run") },
        })
        {
            var (code, stderr) = RunInProcess(args);
            Assert.True(code == CliApp.Usage, $"{args[0]}: exit {code}: {stderr}");
            Assert.StartsWith("ldm: --latent-side:", stderr);
        }
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Fact]
    public void LatentScaleNotFinite_IsAUsageError()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(40, 20));
        foreach (string scale in new[] { "Infinity", "nan", "0", "-2" })
        {
            var (code, stderr) = RunInProcess("diffusion", "train", "--vae", VaeFixture, "--data", data, "--latent-scale", scale, "--out", dir.File("run"));
            Assert.True(code == CliApp.Usage, $"--latent-scale {scale}: exit {code}: {stderr}");
            Assert.StartsWith("ldm: --latent-scale", stderr);
        }
        Assert.False(Directory.Exists(dir.File("run")));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void DirectoryWhereAFileIsExpected_SaysSo_AndAFileWhereADirectoryIs()
    {
        using var dir = new TempDirectory();
        var r = LdmProcess.Run(["classifier", "evaluate", "--model", dir.Path]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains($"model {dir.Path} is a directory, not a file", r.Stderr);
        AssertOneLineNoTrace(r.Stderr);

        string file = dir.File("notes.txt");
        File.WriteAllText(file, "not MNIST");
        r = LdmProcess.Run(["classifier", "evaluate", "--data", file]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains($"--data {file} is a file", r.Stderr);
        AssertOneLineNoTrace(r.Stderr);

        r = LdmProcess.Run(["fid", file, file, "--classifier", dir.Path]);
        Assert.Equal(CliApp.Failure, r.ExitCode);
        Assert.Contains("is a directory, not a file", r.Stderr);
    }

    static void AssertOneLineNoTrace(string stderr)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.StartsWith("ldm: error:"));
        Assert.DoesNotContain("   at ", stderr);
    }
}
