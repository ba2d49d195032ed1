namespace LatentDiffusion.IO;

/// <summary>
/// Every file the project writes goes through here: the content goes to a temporary file beside the target,
/// is flushed to disk (fsync), and is then renamed over the target. A reader therefore sees either the old file or
/// the whole new one, never a half-written file, even if the process is killed mid-write.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary files; anything ending in it is a leftover of a killed write.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Test hook: when set, called after the content is written and before it is flushed and renamed, so a test
    /// can make a write slow and kill the process in the middle of it.
    /// </summary>
    internal static Action<string>? BeforeCommit { get; set; } = ReadDelayFromEnvironment();

    /// <summary>Writes the file through <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string tmp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush();
                BeforeCommit?.Invoke(full);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
            FlushDirectory(dir);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>
    /// Creates the folder <paramref name="path"/> (which must not exist, or be empty) with the files
    /// <paramref name="fill"/> adds through its (file name or relative path with '/', bytes) callback. The files go into a hidden staging folder
    /// beside it, renamed into place once all are written, so an interrupted run leaves no partial folder under
    /// <paramref name="path"/> (only a staging folder named after the process, which <see cref="CleanLeftovers"/>
    /// does not touch and a later run of the same command replaces).
    /// </summary>
    public static void WriteDirectory(string path, Action<Action<string, byte[]>> fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));   // "out/" names the folder out, whose staging goes beside it
        if (File.Exists(full)) throw new IOException($"{path}: exists and is a file, not a folder");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new IOException($"{path}: folder exists and is not empty; give a new folder");
        string parent = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{Environment.ProcessId}.partial");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            fill((name, bytes) =>
            {
                // A plain name, or a relative path of plain names ("train/3/00001.png"): never out of the folder.
                string[] parts = name.Split('/');
                if (name.Contains('\\') || parts.Any(p => p is "" or "." or "..")) throw new ArgumentException($"not a plain file name or relative path: {name}");
                string target = Path.Combine([staging, .. parts]);
                if (parts.Length > 1) Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, bytes);
            });
            if (Directory.Exists(full)) Directory.Delete(full);
            Directory.Move(staging, full);
            FlushDirectory(parent);
        }
        catch
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>
    /// Why <paramref name="path"/> cannot be written (null: it can), found before any work is done: a folder where a file
    /// is wanted (or the reverse, <paramref name="folder"/>), a non-empty folder, a parent that is a file, or a directory
    /// this process may not create files in (probed by creating and deleting a temporary file, as the write will).
    /// </summary>
    public static string? WriteProblem(string path, bool folder = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!folder && Directory.Exists(full)) return $"{path} is a folder; give a file name";
        if (folder && File.Exists(full)) return $"{path} exists and is a file, not a folder";
        if (folder && Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any()) return $"{path}: folder exists and is not empty; give a new folder";
        string? parent = Path.GetDirectoryName(full);
        // The nearest existing ancestor is where the write will create what is missing.
        while (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
        {
            if (File.Exists(parent)) return $"{path}: {parent} is a file, not a folder";
            parent = Path.GetDirectoryName(parent);
        }
        if (string.IsNullOrEmpty(parent)) return null;
        string probe = Path.Combine(parent, $".ldm-write-check.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be written: no file can be created in {parent} ({(e is UnauthorizedAccessException ? "permission denied" : "the file system refused")})";
        }
    }

    /// <summary>Deletes leftovers of killed writes (files ending in <see cref="TempSuffix"/>) in a directory.</summary>
    public static int CleanLeftovers(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        int n = 0;
        foreach (string f in Directory.EnumerateFiles(directory, "*" + TempSuffix))
        {
            TryDelete(f);
            n++;
        }
        return n;
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>fsync the directory so the rename itself survives a crash (POSIX only; a no-op elsewhere).</summary>
    static void FlushDirectory(string? dir)
    {
        if (string.IsNullOrEmpty(dir) || OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Some file systems refuse to open or sync a directory; the data itself is already synced.
        }
    }

    /// <summary>LDM_TEST_SLOW_WRITE_MS slows every commit (used by the kill tests on a child process).</summary>
    static Action<string>? ReadDelayFromEnvironment()
    {
        string? ms = Environment.GetEnvironmentVariable("LDM_TEST_SLOW_WRITE_MS");
        return int.TryParse(ms, out int delay) && delay > 0 ? _ => Thread.Sleep(delay) : null;
    }
}
