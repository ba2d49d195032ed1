using LatentDiffusion.Native;

namespace LatentDiffusion.Tests.Native;

public sealed class OneDnnIsaTests
{
    const string Zen5 = "vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_vnni avx512_vp2intersect\n";
    const string Zen4 = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16\n";
    const string Intel = "vendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 avx512f avx512_vp2intersect\n";

    [Fact]
    public void NeedsCap_OnlyAmdWithVp2Intersect()
    {
        Assert.True(OneDnnIsa.NeedsCap(Zen5));
        Assert.False(OneDnnIsa.NeedsCap(Zen4));
        Assert.False(OneDnnIsa.NeedsCap(Intel));
        Assert.False(OneDnnIsa.NeedsCap(""));
    }

    [Fact]
    public void Apply_OnThisMachine_CapsExactlyWhenTheCpuNeedsIt()
    {
        string? given = Environment.GetEnvironmentVariable(OneDnnIsa.Variable);
        if (OneDnnIsa.Capped) Assert.Equal(OneDnnIsa.Cap, given);
        else if (File.Exists("/proc/cpuinfo") && OneDnnIsa.NeedsCap(File.ReadAllText("/proc/cpuinfo")))
            Assert.True(given == OneDnnIsa.Cap || Environment.GetEnvironmentVariable(OneDnnIsa.OptOut) == "keep", "a CPU that needs the cap ran uncapped");
    }
}
