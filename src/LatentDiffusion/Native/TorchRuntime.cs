using TorchSharp;

namespace LatentDiffusion.Native;

/// <summary>libtorch could not be loaded; the message says why and what to do.</summary>
public sealed class TorchLoadException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Loads libtorch once and, when that fails, replaces TorchSharp's long probe trace with a diagnosis: in
/// particular the GLIBCXX_3.4.32 need of libLibTorchSharp.so on Debian 12 / Ubuntu 22.04, which the build
/// normally removes from the output copy (build/TorchSharpNative.targets).
/// </summary>
public static class TorchRuntime
{
    static readonly Lazy<bool> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Whether <see cref="NativeAllocator.KeepFreedMemory"/> took effect when libtorch was loaded: only on request,
    /// <c>LDM_GLIBC_MALLOC=keep</c> (see there why it is not the default).
    /// </summary>
    public static bool AllocatorTuned { get; private set; }

    /// <summary>Makes sure libtorch is loaded; throws <see cref="TorchLoadException"/> with a diagnosis otherwise.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    static bool Load()
    {
        AllocatorTuned = Environment.GetEnvironmentVariable(NativeAllocator.OptIn) == "keep" && NativeAllocator.KeepFreedMemory();
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new TorchLoadException(Diagnose(e), e);
        }
    }

    /// <summary>One or two sentences on why libtorch did not load and what to do.</summary>
    public static string Diagnose(Exception e)
    {
        string first = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? e.GetType().Name;
        string? native = FindLibTorchSharp();
        if (native is null)
            return $"libtorch failed to load: libLibTorchSharp.so is not next to the application ({AppContext.BaseDirectory}). " +
                   "Build with `dotnet build` so the TorchSharp-cpu native files are copied to the output.";
        if (OperatingSystem.IsLinux())
        {
            try
            {
                string? libstdcxx = GlibcxxWeakener.FindSystemLibStdCxx();
                bool systemHasIt = libstdcxx is not null && GlibcxxWeakener.LibraryDefinesVersion(libstdcxx);
                if (!systemHasIt && GlibcxxWeakener.Inspect(File.ReadAllBytes(native)) == VersionNeedState.Required)
                    return $"libtorch failed to load: {native} requires {GlibcxxWeakener.VersionName}, which this system's " +
                           $"libstdc++ ({libstdcxx ?? "not found"}) lacks. Rebuild with `dotnet build` (the build marks that need " +
                           "weak in the output copy), or install a libstdc++ from GCC 13 or newer.";
            }
            catch (Exception probe) when (probe is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                return $"libtorch failed to load ({first}); {native} could not be inspected: {probe.Message}";
            }
        }
        return $"libtorch failed to load: {first}. Check that {native} and the libtorch libraries beside it are intact " +
               "(delete bin/ and obj/ and rebuild).";
    }

    static string? FindLibTorchSharp()
    {
        string baseDir = AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "runtimes", "linux-arm64", "native", "libLibTorchSharp.so"),
            Path.Combine(baseDir, "libLibTorchSharp.so"),
        ];
        return candidates.FirstOrDefault(File.Exists);
    }
}
