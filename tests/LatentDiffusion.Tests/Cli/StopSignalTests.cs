using System.Collections.Concurrent;
using System.Diagnostics;
using LatentDiffusion.Cli;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Training;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Cli;

/// <summary>
/// SIGTERM and SIGINT sent to a real <c>ldm</c> child: a training finishes its batch, checkpoints mid-epoch, prints the
/// command that resumes it and exits 143 (130 for SIGINT); that command resumes to the weights of a run never stopped.
/// A second signal ends the process at once; a stopped sampling writes nothing.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class StopSignalTests
{
    /// <summary>A started child whose stderr lines are collected as they come.</summary>
    internal sealed class Child : IDisposable
    {
        readonly ConcurrentQueue<string> lines = new();
        readonly Task reading;

        public Child(IEnumerable<string> args, IDictionary<string, string>? environment = null)
        {
            Process = LdmProcess.Start(args, environment);
            _ = Process.StandardOutput.ReadToEndAsync();
            reading = Task.Run(() =>
            {
                while (Process.StandardError.ReadLine() is { } line) lines.Enqueue(line);
            });
        }

        public Process Process { get; }

        public string Stderr => string.Join('\n', lines);

        public void WaitForLine(string contains, double seconds = 120) =>
            LdmProcess.WaitUntil(() => lines.Any(l => l.Contains(contains)) || Process.HasExited, $"a stderr line with '{contains}'", seconds);

        /// <summary>Waits for the exit (failing after <paramref name="seconds"/>) and for the last stderr line.</summary>
        public int Exit(double seconds = 120)
        {
            Assert.True(Process.WaitForExit(TimeSpan.FromSeconds(seconds)), $"ldm did not exit within {seconds} s: {Stderr}");
            reading.Wait(TimeSpan.FromSeconds(10));
            return Process.ExitCode;
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill();
            Process.Dispose();
        }
    }

    static string[] TrainArgs(string data, string run) =>
        ["classifier", "train", "--data", data, "--out", run, "--epochs", "2", "--batch-size", "32", "--seed", "5", "--log-every", "1"];

    [Fact]
    public void Sigterm_MidTraining_CheckpointsPrintsTheResumeCommand_WhichResumesToTheSameWeights()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(600, 100));
        var reference = LdmProcess.Run(TrainArgs(data, dir.File("reference")));
        Assert.True(reference.ExitCode == 0, reference.Stderr);

        string run = dir.File("run");
        int code;
        string stderr;
        using (var child = new Child(TrainArgs(data, run), new Dictionary<string, string> { ["LDM_TEST_SLOW_BATCH_MS"] = "100" }))
        {
            child.WaitForLine("epoch 1/2");                      // epoch 1 done (19 batches of ≥ 100 ms); epoch 2 takes ≥ 1.9 s
            LdmProcess.Signal(child.Process, LdmProcess.SIGTERM);
            code = child.Exit();
            stderr = child.Stderr;
        }
        Assert.True(code == 143, $"exit {code}: {stderr}");
        Assert.Contains("ldm: SIGTERM: stopping after the current step", stderr);
        string last = stderr.Split('\n')[^1];
        Assert.Matches(@"^ldm: SIGTERM: stopped (in|at the start of) epoch 2.*; checkpoint written to .*checkpoint\.ckpt; resume with: ldm classifier train ", last);
        Assert.DoesNotContain("   at ", stderr);
        Checkpoint.State state = Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName));
        Assert.Equal(1, state.Epoch);
        Assert.Equal(2, state.Partial?.Epoch);                   // mid-epoch: epoch 1's checkpoint would come only at the end (every 10)
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.ModelFileName)));
        Assert.Empty(Directory.GetFiles(run, "*" + AtomicFile.TempSuffix));

        // Run exactly what it printed (the temporary paths need no shell quoting).
        string[] resume = last[(last.IndexOf("resume with: ldm ", StringComparison.Ordinal) + "resume with: ldm ".Length)..].Split(' ');
        Assert.Equal([.. TrainArgs(data, run), "--resume"], resume);
        var resumed = LdmProcess.Run(resume);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        using var expected = Load(Path.Combine(dir.File("reference"), RunDirectory.ModelFileName));
        using var actual = Load(Path.Combine(run, RunDirectory.ModelFileName));
        ClassifierTrainerTests.AssertSameWeights(expected, actual);
        Assert.Equal(TrainingHistory.Load(dir.File("reference")).Select(h => h.TrainLoss), TrainingHistory.Load(run).Select(h => h.TrainLoss));
    }

    [Fact]
    public void SecondSignal_EndsTheProcessAtOnce_WithoutWaitingForTheBatch()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(200, 50));
        string run = dir.File("run");
        using var child = new Child(TrainArgs(data, run), new Dictionary<string, string> { ["LDM_TEST_SLOW_BATCH_MS"] = "20000" });
        // Inside the first batch's 20 s (a signal before the first batch would stop the run there, with no batch to wait for).
        child.WaitForLine("test hook: batch 1 of epoch 1 done");
        LdmProcess.Signal(child.Process, LdmProcess.SIGINT);
        child.WaitForLine("stopping after the current step");
        var clock = Stopwatch.StartNew();
        LdmProcess.Signal(child.Process, LdmProcess.SIGINT);
        int code = child.Exit();
        Assert.True(clock.Elapsed.TotalSeconds < 10, $"took {clock.Elapsed.TotalSeconds:F1} s; the batch sleeps 20 s");
        Assert.Equal(130, code);                                 // ended by SIGINT itself: 128 + 2
        Assert.False(File.Exists(Path.Combine(run, Checkpoint.FileName)));   // the first batch never finished
        Assert.DoesNotContain("resume with", child.Stderr);
    }

    [Fact]
    public void Sigint_WhileSampling_StopsBeforeWritingAnything()
    {
        using var dir = new TempDirectory();
        string models = RepositoryPaths.Find("models") ?? throw new DirectoryNotFoundException("models");
        string output = dir.File("digits");
        using var child = new Child(["diffusion", "sample", "--model", Path.Combine(models, "diffusion.safetensors"),
            "--vae", Path.Combine(models, "latent-vae.safetensors"), "-n", "2000", "--batch-size", "500", "--out", output]);
        child.WaitForLine("sampling 2000 digits");
        LdmProcess.Signal(child.Process, LdmProcess.SIGINT);
        int code = child.Exit();
        Assert.True(code == 130, $"exit {code}: {child.Stderr}");
        Assert.EndsWith("ldm: SIGINT (Ctrl-C): stopped while sampling; nothing of it was written", child.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));   // neither the folder nor a staging folder
    }

    static Classifier Load(string path)
    {
        var model = new Classifier();
        ModelWeights.Load(model, path);
        return model;
    }
}
