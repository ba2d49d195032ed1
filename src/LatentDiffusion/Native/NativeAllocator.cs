using System.Runtime.InteropServices;

namespace LatentDiffusion.Native;

/// <summary>
/// glibc malloc settings for libtorch's CPU tensors. By default glibc serves blocks of a few MiB (a batch's
/// activations) with fresh <c>mmap</c>s and returns them on free, so every training step page-faults its
/// activations in again, and the kernel's page zeroing becomes a visible share of a training step (bench/README.md).
/// Keeping freed blocks in the heap (mmap threshold 32 MiB, the most glibc allows; no trimming below 1 GiB) removes
/// that.
/// <para>
/// The heap then settles instead of growing, provided no autograd node keeps its saved input until the graph is
/// destroyed (<see cref="Models.FusedBatchNormLeakyRelu"/> frees it in its backward); bench/README.md has the figures.
/// </para>
/// <para>
/// Opt-in (<c>LDM_GLIBC_MALLOC=keep</c> when libtorch loads, <see cref="TorchRuntime"/>; <c>ldm-bench</c> turns it on
/// for its step timings): it is a process-wide allocator policy, measured only on steady training loops, where it
/// helps; a process never trimming its heap is not what every workload wants.
/// </para>
/// </summary>
public static class NativeAllocator
{
    /// <summary>The environment variable that asks for <see cref="KeepFreedMemory"/> at libtorch's load: <c>keep</c>.</summary>
    public const string OptIn = "LDM_GLIBC_MALLOC";

    private const int MallocTrimThreshold = -1;   // M_TRIM_THRESHOLD
    private const int MallocMmapThreshold = -3;   // M_MMAP_THRESHOLD
    private const int MmapThresholdBytes = 32 << 20;
    private const int TrimThresholdBytes = 1 << 30;

    /// <summary>
    /// Applies the settings, on Linux with glibc, unless the environment already sets glibc's malloc tunables
    /// (<c>MALLOC_*_</c>, <c>GLIBC_TUNABLES</c>) or <c>LDM_GLIBC_MALLOC=default</c> asks to leave them. Returns whether
    /// they were applied.
    /// </summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string key = (string)e.Key;
            if ((key.StartsWith("MALLOC_", StringComparison.Ordinal) && key.EndsWith('_')) || key == "GLIBC_TUNABLES") return false;
        }
        if (Environment.GetEnvironmentVariable("LDM_GLIBC_MALLOC") == "default") return false;
        try
        {
            return mallopt(MallocMmapThreshold, MmapThresholdBytes) == 1 && mallopt(MallocTrimThreshold, TrimThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // not glibc (musl has no mallopt): nothing to tune
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
