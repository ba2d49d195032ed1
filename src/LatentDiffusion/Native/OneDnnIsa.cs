using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LatentDiffusion.Native;

/// <summary>
/// Caps oneDNN (libtorch's convolution backend) at AVX2 on the CPUs where its AVX-512 kernels give wrong results:
/// AMD's with AVX512_VP2INTERSECT (Zen 5). There, convolution training steps come out different from run to run and
/// reach NaN within a few epochs (the UNet and VAE training tests fail); with <c>ONEDNN_MAX_CPU_ISA=AVX2</c> they are
/// exact again. Runs when this library is loaded, before libtorch first asks oneDNN for a kernel. A user's own
/// <c>ONEDNN_MAX_CPU_ISA</c> is left as it is; <c>LDM_ONEDNN_ISA=keep</c> turns the cap off.
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
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null || Environment.GetEnvironmentVariable(OptOut) == "keep") return;
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
        Capped = SetEnv(Variable, "AVX2", 1) == 0;
        if (Capped) Environment.SetEnvironmentVariable(Variable, "AVX2");
    }

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
