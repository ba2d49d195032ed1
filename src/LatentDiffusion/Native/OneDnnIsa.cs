using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LatentDiffusion.Native;

/// <summary>
/// Caps oneDNN (libtorch's convolution backend) at SSE4.1 on the CPUs where its wider kernels give wrong results:
/// AMD's with AVX512_VP2INTERSECT (Zen 5). There, float32 convolutions in NCHW whose channel count is not a multiple of
/// the vector block come out wrong — with the AVX-512 kernels differently from call to call, so that training reaches NaN
/// within a few epochs; with the AVX2 kernels a 4-channel 4x4 convolution is wrong on every call — and with the SSE4.1
/// kernels every case of <c>LibTorchConvolutionTests</c> matches float64. Runs when this library is loaded, before
/// libtorch first asks oneDNN for a kernel; it lowers an <c>ONEDNN_MAX_CPU_ISA</c> the user set above SSE4.1 too, since
/// those kernels are the wrong ones. <c>LDM_ONEDNN_ISA=keep</c> turns the cap off.
/// </summary>
public static partial class OneDnnIsa
{
    /// <summary>The environment variable oneDNN reads for its highest instruction set.</summary>
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>Set to <c>keep</c> to leave oneDNN's choice alone on the CPUs this caps.</summary>
    public const string OptOut = "LDM_ONEDNN_ISA";

    /// <summary>Whether the cap was applied in this process.</summary>
    public static bool Capped { get; private set; }

#pragma warning disable CA2255 // a library initializer on purpose: the cap must precede libtorch's first convolution, whoever calls it
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(OptOut) == "keep") return;
        if (Environment.GetEnvironmentVariable(Variable) is { } asked && !Above(asked)) return;
        string cpuinfo;
        try
        {
            cpuinfo = File.ReadAllText("/proc/cpuinfo");
        }
        catch (IOException)
        {
            return;
        }
        if (!NeedsCap(cpuinfo)) return;
        // .NET's Environment.SetEnvironmentVariable does not reach the C environment that oneDNN's getenv reads.
        Capped = SetEnv(Variable, Cap, 1) == 0;
        if (Capped) Environment.SetEnvironmentVariable(Variable, Cap);
    }

    /// <summary>The highest oneDNN instruction set whose kernels are right on the CPUs this caps.</summary>
    public const string Cap = "SSE41";

    /// <summary>Whether a value of ONEDNN_MAX_CPU_ISA allows more than <see cref="Cap"/> (anything from AVX on, or an unknown name).</summary>
    static bool Above(string isa) => !(isa.Equals("SSE41", StringComparison.OrdinalIgnoreCase) || isa.Equals("DEFAULT_FOR_TESTS", StringComparison.OrdinalIgnoreCase));

    /// <summary>True for /proc/cpuinfo text of an AMD CPU with AVX512_VP2INTERSECT (Zen 5).</summary>
    public static bool NeedsCap(string cpuinfo)
    {
        bool amd = cpuinfo.Contains("AuthenticAMD", StringComparison.Ordinal);
        string? flags = cpuinfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        return amd && flags is not null && flags.Split(' ', ':', '\t').Contains("avx512_vp2intersect");
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
