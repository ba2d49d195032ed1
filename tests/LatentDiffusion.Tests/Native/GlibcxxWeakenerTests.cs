using LatentDiffusion.Native;

namespace LatentDiffusion.Tests.Native;

/// <summary>The build's libLibTorchSharp.so patch, checked on the real files.</summary>
public sealed class GlibcxxWeakenerTests
{
    static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    static string NuGetOriginalPath
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    /// <summary>
    /// The restored package's copy (the same bytes on every OS). A restore puts it in the global packages folder,
    /// but that folder may be a fallback feed elsewhere, so its absence is a visible skip naming the path looked at.
    /// </summary>
    static string NuGetOriginal()
    {
        Skip.IfNot(File.Exists(NuGetOriginalPath), $"TorchSharp's NuGet copy is not at {NuGetOriginalPath} (set NUGET_PACKAGES)");
        return NuGetOriginalPath;
    }

    [SkippableFact]
    public void NuGetOriginal_RequiresTheVersion_AndIsLeftUntouched()
    {
        string original = NuGetOriginal();
        Assert.Equal(VersionNeedState.Required, GlibcxxWeakener.Inspect(File.ReadAllBytes(original)));
    }

    [SkippableFact]
    public void OutputCopy_IsWeakExactlyWhenTheSystemLacksTheVersion()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the build patches libLibTorchSharp.so on Linux only");
        // Every Linux build copies it beside the tests (TorchSharp loads it from there), so absent is a failure.
        Assert.True(File.Exists(OutputCopy), $"the build did not copy libLibTorchSharp.so to {OutputCopy}");
        string? libstdcxx = GlibcxxWeakener.FindSystemLibStdCxx();
        bool systemHasIt = libstdcxx is not null && GlibcxxWeakener.LibraryDefinesVersion(libstdcxx);
        var expected = systemHasIt ? VersionNeedState.Required : VersionNeedState.Weak;
        Assert.Equal(expected, GlibcxxWeakener.Inspect(File.ReadAllBytes(OutputCopy)));
    }

    [SkippableFact]
    public void Weaken_ChangesExactlyTheFlagsOfOneEntry()
    {
        string original = NuGetOriginal();
        byte[] before = File.ReadAllBytes(original);
        byte[] after = (byte[])before.Clone();
        Assert.True(GlibcxxWeakener.Weaken(after));
        Assert.False(GlibcxxWeakener.Weaken(after));                       // idempotent
        Assert.Equal(VersionNeedState.Weak, GlibcxxWeakener.Inspect(after));
        int[] changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.Single(changed);
        Assert.Equal(before[changed[0]] | 0x2, after[changed[0]]);
    }

    [Fact]
    public void Inspect_NotAnElfFile_IsRejected()
    {
        Assert.Throws<InvalidDataException>(() => GlibcxxWeakener.Inspect("not an ELF file at all, just text"u8.ToArray()));
    }
}
