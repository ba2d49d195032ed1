using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Cli;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// Kills <c>ldm classifier train</c> with SIGKILL at random moments, checkpoint writes included (slowed down by a
/// test hook so kills land inside them), resumes with --resume, and checks that the run always completes, no
/// checkpoint is ever half-written, and the final weights equal those of an uninterrupted run.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Torch")]
public sealed class InterruptedTrainingTests
{
    const int Epochs = 10;
    const int Kills = 4;

    [Fact]
    public void KilledAtRandomMoments_ResumesToTheSameWeights()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(600, 100));
        // Every file write sleeps 250 ms before its flush and rename, so a good share of kills land inside one.
        var slowWrites = new Dictionary<string, string> { ["LDM_TEST_SLOW_WRITE_MS"] = "250" };
        string reference = dir.File("reference");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var done = LdmProcess.Run(TrainArgs(data, reference), slowWrites);
        Assert.True(done.ExitCode == 0, done.Stderr);
        // Kill moments scale with how long a whole run takes here, so each kill lands before the run can finish.
        int longest = Math.Max(1500, (int)(clock.ElapsedMilliseconds * 0.3));

        string run = dir.File("killed");
        var rng = new Random(2024);
        int kills = 0, attempts = 0;
        while (true)
        {
            attempts++;
            Assert.True(attempts < 40, "the run never completed");
            var args = TrainArgs(data, run).Append("--resume");
            using var child = LdmProcess.Start(args, slowWrites);
            _ = child.StandardOutput.ReadToEndAsync();
            _ = child.StandardError.ReadToEndAsync();
            bool killNow = kills < Kills;
            if (killNow && !child.WaitForExit(rng.Next(longest / 3, longest)))
            {
                child.Kill();          // SIGKILL on Unix: no cleanup runs in the child
                child.WaitForExit();
                kills++;
                AssertCheckpointIntact(run);
                continue;
            }
            child.WaitForExit();
            Assert.Equal(0, child.ExitCode);
            break;
        }
        Assert.True(kills == Kills, $"only {kills} kills landed before the run finished");
        using var expected = Load(Path.Combine(reference, RunDirectory.ModelFileName));
        using var actual = Load(Path.Combine(run, RunDirectory.ModelFileName));
        ClassifierTrainerTests.AssertSameWeights(expected, actual);
        Assert.Empty(Directory.GetFiles(run, "*" + AtomicFile.TempSuffix));
        Assert.Equal(Epochs, Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Epoch);
    }

    static IEnumerable<string> TrainArgs(string data, string run) =>
        ["classifier", "train", "--data", data, "--out", run, "--epochs", $"{Epochs}", "--batch-size", "32",
         "--log-every", "1", "--checkpoint-every", "1", "--seed", "5"];

    /// <summary>After a kill the checkpoint is either absent or a whole, loadable file; other files are whole too.</summary>
    static void AssertCheckpointIntact(string run)
    {
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        if (File.Exists(checkpoint)) Checkpoint.ReadState(checkpoint);
        string history = Path.Combine(run, TrainingHistory.JsonName);
        if (File.Exists(history)) TrainingHistory.Load(history);
    }

    static Classifier Load(string path)
    {
        var model = new Classifier();
        ModelWeights.Load(model, path);
        return model;
    }
}
