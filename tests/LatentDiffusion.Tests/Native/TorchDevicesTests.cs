using LatentDiffusion.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Native;

/// <summary><c>--device</c>: cpu works; CUDA on this TorchSharp-cpu build is a clear error; nonsense is named.</summary>
[Collection("Torch")]
public sealed class TorchDevicesTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void Cpu_ParsesToTheCpu(string text) => Assert.Equal(DeviceType.CPU, TorchDevices.Parse(text).type);

    [SkippableTheory]
    [InlineData("cuda")]
    [InlineData("cuda:0")]
    [InlineData("CUDA:1")]
    public void Cuda_OnACpuBuild_SaysWhatToDo(string text)
    {
        Skip.If(cuda.is_available(), "a CUDA device is visible here");
        var e = Assert.Throws<ArgumentException>(() => TorchDevices.Parse(text));
        Assert.Contains("CUDA is not available", e.Message);
        Assert.Contains("TorchSharp-cpu", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void Unknown_IsNamed(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => TorchDevices.Parse(text));
        Assert.Contains($"unknown device '{text}'", e.Message);
    }

    [Fact]
    public void MoveTo_SameDevice_ReturnsTheTensorItself()
    {
        using Tensor t = ones(3);
        Assert.Same(t, TorchDevices.MoveTo(t, CPU));
    }
}
