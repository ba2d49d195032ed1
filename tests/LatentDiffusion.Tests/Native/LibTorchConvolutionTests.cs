using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Native;

/// <summary>
/// libtorch's own float32 convolution, for the channel counts our models use, against the same convolution in float64
/// (which libtorch computes without oneDNN). Every parity test of a model trusts this: when it fails, oneDNN's
/// kernels for this CPU (blocked NCHW formats, where a channel count that is not a multiple of the vector block —
/// 16 floats with AVX-512, 8 with AVX2 — is padded) give wrong or NaN values that change from call to call, and the
/// model tests fail for that reason, not for anything in this repository. Channels-last tensors take oneDNN's
/// unpadded NHWC kernels and are checked too.
/// </summary>
[Collection("Torch")]
[Trait("Category", "Parity")]
public sealed class LibTorchConvolutionTests
{
    [Theory]
    [InlineData(1, 8, 32, 3, false)]    // the VAE's and autoencoder's first block
    [InlineData(8, 8, 32, 3, false)]
    [InlineData(4, 4, 4, 3, false)]     // the decoder's first block on a 4-channel latent
    [InlineData(8, 1, 32, 1, false)]    // the decoder's output convolution
    [InlineData(32, 32, 8, 3, false)]
    [InlineData(64, 4, 4, 1, false)]    // the UNet's output convolution
    [InlineData(8, 8, 32, 3, true)]
    [InlineData(4, 4, 4, 3, true)]
    public void Conv2d_Float32_ValuesAndGradientsMatchFloat64_EveryCall(int channelsIn, int channelsOut, int size, int kernel, bool channelsLast)
    {
        using var g = new Generator(3);
        using Tensor x = randn([16, channelsIn, size, size], generator: g);
        using Tensor w = randn([channelsOut, channelsIn, kernel, kernel], generator: g);
        using Tensor dy = randn([16, channelsOut, size, size], generator: g);
        (Tensor y, Tensor dx, Tensor dw) exact = Convolve(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), dy.to_type(ScalarType.Float64), false);
        for (int call = 0; call < 4; call++)   // wrong values from uninitialised padding differ between calls
        {
            (Tensor y, Tensor dx, Tensor dw) got = Convolve(x, w, dy, channelsLast);
            Close(exact.y, got.y, $"output, call {call}");
            Close(exact.dx, got.dx, $"input gradient, call {call}");
            Close(exact.dw, got.dw, $"weight gradient, call {call}");
            got.y.Dispose(); got.dx.Dispose(); got.dw.Dispose();
        }
        exact.y.Dispose(); exact.dx.Dispose(); exact.dw.Dispose();
    }

    static (Tensor Y, Tensor Dx, Tensor Dw) Convolve(Tensor x, Tensor w, Tensor dy, bool channelsLast)
    {
        using Tensor input = (channelsLast ? LatentDiffusion.Models.ChannelsLast.Of(x) : x.clone()).requires_grad_();
        using Tensor weight = w.clone().requires_grad_();
        using Tensor y = nn.functional.conv2d(input, weight, padding: [w.shape[2] / 2, w.shape[3] / 2]);
        y.backward([dy]);
        return (y.detach().clone(), input.grad!.clone(), weight.grad!.clone());
    }

    /// <summary>Float32 rounding of a sum of a few hundred products: 1e-5 of the tensor's largest value.</summary>
    static void Close(Tensor exact, Tensor actual, string what)
    {
        double scale = exact.abs().max().item<double>();
        using Tensor difference = actual.to_type(ScalarType.Float64).sub(exact).abs().max();
        double worst = difference.item<double>();
        Assert.True(worst <= 1e-5 * scale, $"libtorch conv2d {what}: {worst:E3} from float64 > 1e-5 x scale {scale:E3} (oneDNN on this CPU)");
    }
}
