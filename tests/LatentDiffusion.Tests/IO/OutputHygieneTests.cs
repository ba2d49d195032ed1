using System.Text.RegularExpressions;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.IO;

/// <summary>Every file the project writes goes through <see cref="AtomicFile"/>; failures leave nothing behind.</summary>
public sealed class OutputHygieneTests
{
    static readonly Regex DirectWrite = new(
        @"(?<![A-Za-z])File\.(WriteAll\w*|Create|OpenWrite|AppendAll\w*|Move|Copy|Replace)\(|FileMode\.(Create|CreateNew|OpenOrCreate|Append|Truncate)|FileAccess\.(Write|ReadWrite)|new StreamWriter\(""",
        RegexOptions.Compiled);

    [Fact]
    public void Library_And_Cli_WriteFilesOnlyThroughAtomicFile()
    {
        string src = RepositoryPaths.Find("src/LatentDiffusion") is { } lib ? Path.GetDirectoryName(lib)! : throw new DirectoryNotFoundException("src");
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            // RunLock opens (creates when missing) a lock file it never writes: an OS lock on a file that is never replaced.
            .Where(f => Path.GetFileName(f) is not ("AtomicFile.cs" or "RunLock.cs"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => DirectWrite.IsMatch(x.line) && !x.line.TrimStart().StartsWith("//"))
            .Select(x => $"{Path.GetRelativePath(src, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "direct file writes outside AtomicFile:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void Write_ThatFails_LeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.File("out.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new InvalidOperationException("writer failed half-way");
        }));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteDirectory_NamedWithATrailingSlash_WritesThatFolder()
    {
        using var dir = new TempDirectory();
        string target = dir.File("digits") + Path.DirectorySeparatorChar;
        AtomicFile.WriteDirectory(target, add => add("00000.png", [1, 2, 3]));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(dir.File("digits"), "00000.png")));
        Assert.Equal(["digits"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void CleanLeftovers_RemovesOnlyTemporaries()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("keep.json"), "{}");
        File.WriteAllText(dir.File("checkpoint.ckpt.123.abc" + AtomicFile.TempSuffix), "partial");
        Assert.Equal(1, AtomicFile.CleanLeftovers(dir.Path));
        Assert.Equal(["keep.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
