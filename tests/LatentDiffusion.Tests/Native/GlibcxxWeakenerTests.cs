using LatentDiffusion.Native;

namespace LatentDiffusion.Tests.Native;

/// <summary>The build's libLibTorchSharp.so patch, checked on the real files.</summary>
public sealed class GlibcxxWeakenerTests
{
    static string OutputCopy => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    static string? NuGetOriginal()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    [Fact]
    public void NuGetOriginal_RequiresTheVersion_AndIsLeftUntouched()
    {
        if (!OperatingSystem.IsLinux() || NuGetOriginal() is not { } original) return;   // nothing to check elsewhere
        Assert.Equal(VersionNeedState.Required, GlibcxxWeakener.Inspect(File.ReadAllBytes(original)));
    }

    [Fact]
    public void OutputCopy_IsWeakExactlyWhenTheSystemLacksTheVersion()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(OutputCopy)) return;
        string? libstdcxx = GlibcxxWeakener.FindSystemLibStdCxx();
        bool systemHasIt = libstdcxx is not null && GlibcxxWeakener.LibraryDefinesVersion(libstdcxx);
        var expected = systemHasIt ? VersionNeedState.Required : VersionNeedState.Weak;
        Assert.Equal(expected, GlibcxxWeakener.Inspect(File.ReadAllBytes(OutputCopy)));
    }

    [Fact]
    public void Weaken_ChangesExactlyTheFlagsOfOneEntry()
    {
        if (NuGetOriginal() is not { } original) return;
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
