using System.Diagnostics;
using LatentDiffusion.Cli;
using LatentDiffusion.Models;
using LatentDiffusion.Tests.Cli;
using LatentDiffusion.Training;

namespace LatentDiffusion.Tests.Training;

/// <summary>
/// One writer per run directory: in one process (two locks, two trainers) and between two real <c>ldm</c> processes —
/// the second writer is refused with one line naming the directory and the holder's PID, a reader is not blocked, and a
/// holder killed with SIGKILL leaves a lock the next writer can take.
/// </summary>
[Collection("Torch")]
public sealed class RunLockTests
{
    [Fact]
    public void SecondLock_IsRefusedNamingTheDirectoryAndThisProcess_AndFreeAfterRelease()
    {
        using var dir = new TempDirectory();
        using (RunLock first = RunLock.Acquire(dir.Path))
        {
            var e = Assert.Throws<RunLockedException>(() => RunLock.Acquire(dir.Path));
            Assert.Contains(dir.Path, e.Message);
            Assert.Contains($"PID {Environment.ProcessId}", e.Message);
            Assert.Equal(Environment.ProcessId, e.Holder?.Pid);
            Assert.Equal(Environment.ProcessId, RunLock.Holder(dir.Path)?.Pid);
            Assert.Single(e.Message.Split('\n'));
        }
        Assert.Null(RunLock.Holder(dir.Path));                   // the owner file goes with the lock
        using RunLock again = RunLock.Acquire(dir.Path);          // and the lock itself is free
    }

    [Fact]
    public void Trainer_OnALockedDirectory_IsRefusedBeforeTouchingIt()
    {
        using var dir = new TempDirectory();
        var data = SyntheticData.Dataset(64, 32);
        string leftover = dir.File("checkpoint.ckpt.1.abc" + LatentDiffusion.IO.AtomicFile.TempSuffix);   // another writer's write in flight
        using (RunLock.Acquire(dir.Path))
        {
            File.WriteAllText(leftover, "partial");
            Assert.Throws<RunLockedException>(() =>
                ClassifierTask.Train(new TrainingConfig { Epochs = 1, BatchSize = 32 }, data.Train, data.Test, dir.Path));
            Assert.True(File.Exists(leftover));                   // not cleaned up under the holder's feet
            Assert.False(File.Exists(dir.File(RunDirectory.ConfigFileName)));
        }
        using var result = ClassifierTask.Train(new TrainingConfig { Epochs = 1, BatchSize = 32 }, data.Train, data.Test, dir.Path);
        Assert.False(File.Exists(leftover));
    }

    [Trait("Category", "Slow")]
    [Fact]
    public void TwoProcesses_SecondWriterRefused_ReaderNotBlocked_LockFreedWhenTheHolderIsKilled()
    {
        using var dir = new TempDirectory();
        string data = SyntheticData.WriteIdxDirectory(dir.File("data"), SyntheticData.Dataset(300, 60));
        string run = dir.File("run");
        string[] train = ["classifier", "train", "--data", data, "--out", run, "--batch-size", "32", "--seed", "2"];
        var first = LdmProcess.Run([.. train, "--epochs", "1"]);
        Assert.True(first.ExitCode == 0, first.Stderr);

        // The holder: resumes for more epochs, every batch slowed so it is still running while the others try.
        using Process holder = LdmProcess.Start([.. train, "--epochs", "30", "--resume"], new Dictionary<string, string> { ["LDM_TEST_SLOW_BATCH_MS"] = "200" });
        _ = holder.StandardOutput.ReadToEndAsync();
        _ = holder.StandardError.ReadToEndAsync();
        try
        {
            LdmProcess.WaitUntil(() => RunLock.Holder(run)?.Pid == holder.Id || holder.HasExited, "the holder taking the lock");
            Assert.False(holder.HasExited, $"the holder ended early (exit {(holder.HasExited ? holder.ExitCode : 0)})");

            var second = LdmProcess.Run([.. train, "--epochs", "30", "--resume"]);
            Assert.Equal(CliApp.Failure, second.ExitCode);
            string line = Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ldm:"));   // after the synthetic data's notice
            Assert.StartsWith("ldm: error:", line);
            Assert.Contains(run, line);
            Assert.Contains($"PID {holder.Id}", line);

            var reader = LdmProcess.Run(["classifier", "evaluate", "--model", Path.Combine(run, RunDirectory.ModelFileName), "--data", data, "--json"]);
            Assert.True(reader.ExitCode == 0, reader.Stderr);

            holder.Kill();                                        // SIGKILL: no cleanup in the holder
            holder.WaitForExit();
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
        // The OS released the lock with the process; its owner file is left behind but names a process that is gone.
        Assert.True(File.Exists(Path.Combine(run, RunLock.OwnerFileName)));
        Assert.Null(RunLock.Holder(run));
        using (RunLock.Acquire(run)) { }
    }
}
