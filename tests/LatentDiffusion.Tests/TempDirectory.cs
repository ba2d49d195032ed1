namespace LatentDiffusion.Tests;

/// <summary>
/// A fresh empty directory under <c>/tmp/ldm-tests</c>, deleted with everything in it on dispose: a test holds it with
/// <c>using var dir = new TempDirectory();</c>, or a test class as a field it disposes in its own Dispose.
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ldm-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Names of the files now in the directory, sorted.</summary>
    public string[] FileNames() =>
        Directory.EnumerateFiles(Path).Select(f => System.IO.Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        // Cleaning up must not turn a passing test into a failing one.
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
