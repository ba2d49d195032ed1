using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentDiffusion.IO;

namespace LatentDiffusion.Training;

/// <summary>
/// One writer per run directory. A training opens <see cref="FileName"/> in its directory exclusively (an OS lock:
/// <c>flock</c> on Linux and macOS, a share-mode lock on Windows) and keeps it open for the whole run, so the lock goes
/// away with the process however it ends — normally, by an exception, or by SIGKILL. A second writer fails at once with
/// <see cref="RunLockedException"/>, which names the directory and the holder's PID. Readers (evaluate, report, info)
/// never take the lock and are never blocked.
/// </summary>
/// <remarks>
/// The OS lock also keeps other .NET processes from <em>reading</em> the locked file (they ask for a shared lock when
/// they open it), so who holds it is recorded beside it, in <see cref="OwnerFileName"/>, written through
/// <see cref="AtomicFile"/> once the lock is held. The lock file itself is never renamed or deleted: a process that
/// deleted it on release could leave the next two writers locking two different files.
/// </remarks>
public sealed class RunLock : IDisposable
{
    /// <summary>The file held open for the run.</summary>
    public const string FileName = "run.lock";

    /// <summary>Who holds the lock: PID, host, start time, command line (JSON).</summary>
    public const string OwnerFileName = "run.lock.owner";

    readonly FileStream handle;
    readonly string ownerPath;

    RunLock(FileStream handle, string ownerPath)
    {
        this.handle = handle;
        this.ownerPath = ownerPath;
    }

    /// <summary>The directory this lock is for.</summary>
    public required string Directory { get; init; }

    /// <summary>
    /// Takes the lock of <paramref name="runDirectory"/> (created if missing) or throws <see cref="RunLockedException"/>
    /// when another writer holds it. Never waits.
    /// </summary>
    public static RunLock Acquire(string runDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        System.IO.Directory.CreateDirectory(runDirectory);
        string path = Path.Combine(runDirectory, FileName);
        string ownerPath = Path.Combine(runDirectory, OwnerFileName);
        FileStream handle;
        try
        {
            // Opened (created when missing), never replaced, never written: every writer locks the same file.
            handle = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.None);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new RunLockedException(runDirectory, ReadOwner(ownerPath), e.Message);
        }
        string[] args = Environment.GetCommandLineArgs();   // [0] is the program (ldm.dll), then its arguments
        string command = string.Join(' ', args.Skip(1).Prepend(Path.GetFileNameWithoutExtension(args[0])));
        var owner = new Owner(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, command);
        try
        {
            AtomicFile.WriteAllText(ownerPath, JsonSerializer.Serialize(owner));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new RunLock(handle, ownerPath) { Directory = runDirectory };
    }

    /// <summary>Who holds <paramref name="runDirectory"/>'s lock as its owner file records it, or null (no file, unreadable, or a process that is gone).</summary>
    public static Owner? Holder(string runDirectory) => ReadOwner(Path.Combine(runDirectory, OwnerFileName));

    static Owner? ReadOwner(string ownerPath)
    {
        try
        {
            Owner? owner = JsonSerializer.Deserialize<Owner>(File.ReadAllText(ownerPath));
            return owner is not null && owner.IsAlive() ? owner : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock: the owner file is removed, then the lock file closed (which is what releases it).</summary>
    public void Dispose()
    {
        try { File.Delete(ownerPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        handle.Dispose();
    }

    /// <summary>What <see cref="OwnerFileName"/> records.</summary>
    public sealed record Owner(
        [property: JsonPropertyName("pid")] int Pid,
        [property: JsonPropertyName("host")] string Host,
        [property: JsonPropertyName("started")] DateTimeOffset Started,
        [property: JsonPropertyName("command")] string Command)
    {
        /// <summary>False when the recorded process is known to be gone (same host only; another host's PID cannot be checked).</summary>
        public bool IsAlive()
        {
            if (Host != Environment.MachineName) return true;
            try
            {
                using var process = Process.GetProcessById(Pid);
                return !process.HasExited;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return false;
            }
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"PID {Pid}{(Host == Environment.MachineName ? "" : $" on {Host}")}, since {Started.ToLocalTime():yyyy-MM-dd HH:mm:ss}: {Command}");
    }
}
