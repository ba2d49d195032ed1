using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Native;

/// <summary>
/// The device a run keeps its tensors on (<c>--device</c>): <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c>.
/// This project references TorchSharp-cpu, so CUDA needs a build against TorchSharp's CUDA runtime package instead
/// (docs/operations.md, "Training on a GPU"); asking for it without one is an error that says so, not a crash.
/// </summary>
public static class TorchDevices
{
    /// <summary>The text of <c>--device</c> as a <see cref="Device"/>; <see cref="ArgumentException"/> with a one-line reason otherwise.</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string spec = text.Trim().ToLowerInvariant();
        if (spec == "cpu") return CPU;
        if (spec != "cuda" && !(spec.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(spec[5..], out int parsed) && parsed >= 0))
            throw new ArgumentException($"unknown device '{text}': use cpu, cuda or cuda:N");
        if (!CudaAvailable())
            throw new ArgumentException($"device '{text}': CUDA is not available — this build references TorchSharp-cpu (or no NVIDIA driver/GPU is visible); " +
                                        "build against TorchSharp-cuda-linux/-windows to train on a GPU (docs/operations.md, \"Training on a GPU\")");
        int index = spec == "cuda" ? 0 : int.Parse(spec[5..]);
        int count = cuda.device_count();
        if (index >= count) throw new ArgumentException($"device '{text}': only {count} CUDA device(s) visible (cuda:0..cuda:{count - 1})");
        return new Device(DeviceType.CUDA, index);
    }

    /// <summary>
    /// <paramref name="t"/> on <paramref name="device"/>: itself when it is already there, otherwise a copy there, and
    /// <paramref name="t"/> is disposed (so a large CPU tensor does not linger until the GC finds it).
    /// </summary>
    public static Tensor MoveTo(Tensor t, Device device)
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentNullException.ThrowIfNull(device);
        if (t.device.type == device.type && t.device.index == device.index) return t;
        using (t) return t.to(device);
    }

    static bool CudaAvailable()
    {
        TorchRuntime.EnsureLoaded();
        try
        {
            torch.InitializeDeviceType(DeviceType.CUDA);   // loads the CUDA backend when the build has one; throws otherwise
            return cuda.is_available();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }
}
