using static TorchSharp.torch;

namespace LatentDiffusion.Models;

/// <summary>
/// Channels-last (NHWC) memory layout for (B, C, H, W) tensors, without TorchSharp API for it: libtorch picks the
/// layout of a convolution, pooling or ReLU from its input's strides, so a batch whose strides are NHWC runs the whole
/// convolutional trunk in NHWC, where oneDNN's convolutions and libtorch's vectorised pooling kernels are several times
/// faster on CPU than in NCHW for these few-channel maps (bench/README.md). Shapes and values do not change, only the
/// order in memory; <c>flatten</c>/<c>reshape</c> afterwards copy back into NCHW order.
/// </summary>
public static class ChannelsLast
{
    /// <summary>NHWC strides of a (B, C, H, W) shape, in elements.</summary>
    public static long[] Strides(long[] shape)
    {
        if (shape.Length != 4) throw new ArgumentException($"expected a (B, C, H, W) shape, got [{string.Join(", ", shape)}]", nameof(shape));
        long c = shape[1], h = shape[2], w = shape[3];
        return [h * w * c, 1, w * c, c];
    }

    /// <summary>Whether <paramref name="x"/> is (B, C, H, W) with dense NHWC strides (size-1 dimensions' strides ignored).</summary>
    public static bool Is(Tensor x)
    {
        if (x.dim() != 4) return false;
        long[] shape = x.shape, want = Strides(shape), have = x.stride();
        for (int d = 0; d < 4; d++)
            if (shape[d] != 1 && have[d] != want[d]) return false;
        return true;
    }

    /// <summary>
    /// <paramref name="x"/> (B, C, H, W) with NHWC strides: a view of the same memory when it already has them or
    /// when C = 1 and it is contiguous (NCHW and NHWC then order the values identically); otherwise an NHWC copy.
    /// The view keeps <paramref name="x"/>'s storage offset, so slices of a larger tensor work.
    /// </summary>
    public static Tensor Of(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        long[] shape = x.shape;
        long[] strides = Strides(shape);
        if (Is(x) || (shape[1] == 1 && x.is_contiguous()))
            return x.as_strided(shape, strides, x.storage_offset());
        Tensor copy = empty_strided(shape, strides, x.dtype, x.device);
        copy.copy_(x);
        return copy;
    }
}
