using System.Runtime.CompilerServices;
using LatentDiffusion.Native;

namespace LatentDiffusion.Tests;

/// <summary>
/// Loads the library's settings before any test runs TorchSharp directly: the library's module initializer caps oneDNN
/// on the CPUs whose AVX-512 kernels are wrong (<see cref="OneDnnIsa"/>), and must run before the first convolution.
/// </summary>
static class TestAssemblySetup
{
    [ModuleInitializer]
    internal static void Init() => _ = OneDnnIsa.Capped;
}
