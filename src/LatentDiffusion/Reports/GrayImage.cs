using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>A grayscale image, one byte per pixel, row-major: <c>Pixels[row * Width + col]</c>, 0 black, 255 white.</summary>
public sealed record GrayImage(int Width, int Height, byte[] Pixels)
{
    /// <summary>Image <paramref name="index"/> of an MNIST-layout pixel array (count × rows × cols, row-major), as stored.</summary>
    public static GrayImage FromIdx(byte[] pixels, int index, int rows, int cols)
    {
        int size = rows * cols;
        return new GrayImage(cols, rows, pixels.AsSpan(index * size, size).ToArray());
    }

    /// <summary>
    /// A (height, width) float map scaled linearly so <paramref name="low"/> is black and <paramref name="high"/> white
    /// (clamped). A flat range (high ≤ low, e.g. a dead ReLU channel) and NaN give black.
    /// </summary>
    public static GrayImage FromValues(ReadOnlySpan<float> values, int width, int height, double low, double high)
    {
        if (values.Length != width * height) throw new ArgumentException($"{values.Length} values for a {width}x{height} image", nameof(values));
        var pixels = new byte[values.Length];
        double range = high - low;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            double t = double.IsNaN(v) || !(range > 0) ? 0 : (v - low) / range;
            pixels[i] = (byte)Math.Round(255 * Math.Clamp(t, 0, 1));
        }
        return new GrayImage(width, height, pixels);
    }

    /// <summary>(N, 1, H, W) in [0, 1] → N gray images (values clamped to [0, 1]; 0 black, 1 white).</summary>
    public static GrayImage[] FromTensor(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 1) throw new ArgumentException($"expected (N, 1, H, W) images, got ({string.Join(", ", images.shape)})", nameof(images));
        if (images.shape[0] == 0) throw new ArgumentException("no images", nameof(images));
        int n = (int)images.shape[0], h = (int)images.shape[2], w = (int)images.shape[3];
        using Tensor values = images.detach().to_type(ScalarType.Float32).cpu().contiguous();
        float[] all = values.data<float>().ToArray();
        return Enumerable.Range(0, n).Select(i => FromValues(all.AsSpan(i * h * w, h * w), w, h, 0, 1)).ToArray();
    }
}

/// <summary>A colour image, three bytes (R, G, B) per pixel, row-major: <c>Pixels[3 * (row * Width + col) + channel]</c>.</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    /// <summary>Image <paramref name="index"/> of planar (N, 3, H, W) values in [0, 1] (clamped, rounded to bytes).</summary>
    public static RgbImage FromPlanar(ReadOnlySpan<float> values, int index, int width, int height)
    {
        int plane = width * height, offset = index * 3 * plane;
        var pixels = new byte[3 * plane];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++)
                pixels[3 * p + c] = (byte)Math.Round(255 * Math.Clamp(values[offset + c * plane + p], 0f, 1f));
        return new RgbImage(width, height, pixels);
    }
}
