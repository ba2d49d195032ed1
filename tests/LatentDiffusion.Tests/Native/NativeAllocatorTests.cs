using LatentDiffusion.Native;

namespace LatentDiffusion.Tests.Native;

[Collection("Torch")]
public sealed class NativeAllocatorTests
{
    static bool TunablesInEnvironment() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => (k.StartsWith("MALLOC_", StringComparison.Ordinal) && k.EndsWith('_')) || k == "GLIBC_TUNABLES")
        || Environment.GetEnvironmentVariable("LDM_GLIBC_MALLOC") == "default";

    [Fact]
    public void LoadingLibtorch_TunesTheAllocator_OnlyWhenAsked()
    {
        TorchRuntime.EnsureLoaded();
        bool asked = Environment.GetEnvironmentVariable(NativeAllocator.OptIn) == "keep";
        if (!asked || !OperatingSystem.IsLinux() || TunablesInEnvironment())
            Assert.False(TorchRuntime.AllocatorTuned);
        else
            Assert.True(TorchRuntime.AllocatorTuned, "LDM_GLIBC_MALLOC=keep but mallopt was not applied (not glibc?)");
    }

    [Fact]
    public void KeepFreedMemory_LeavesAUsersOwnSettingsAlone()
    {
        string? before = Environment.GetEnvironmentVariable("LDM_GLIBC_MALLOC");
        try
        {
            Environment.SetEnvironmentVariable("LDM_GLIBC_MALLOC", "default");
            Assert.False(NativeAllocator.KeepFreedMemory());
        }
        finally
        {
            Environment.SetEnvironmentVariable("LDM_GLIBC_MALLOC", before);
        }
    }
}
