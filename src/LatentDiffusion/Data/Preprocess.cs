using static TorchSharp.torch;

namespace LatentDiffusion.Data;

/// <summary>The blog's preprocessing: pixel / 255.0, then zero-pad 2 px on each side, 28x28 → 32x32, float32.</summary>
public static class Preprocess
{
    public const int Padding = 2;

    /// <summary>(N, 28, 28) uint8 pixels → (N, 1, 32, 32) float32 in [0, 1].</summary>
    public static Tensor ToModelInput(Tensor pixels)
    {
        if (pixels.dim() != 3) throw new ArgumentException($"expected (N, H, W) pixels, got shape [{string.Join(", ", pixels.shape)}]", nameof(pixels));
        using var scope = NewDisposeScope();
        Tensor x = pixels.to_type(ScalarType.Float32).div_(255.0).unsqueeze(1);       // (N, 1, 28, 28)
        Tensor padded = nn.functional.pad(x, [Padding, Padding, Padding, Padding]);      // (N, 1, 32, 32)
        return padded.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Raw pixel bytes (N*rows*cols, row-major) → (N, 1, rows+4, cols+4) float32.</summary>
    public static Tensor ToModelInput(byte[] pixels, int count, int rows, int cols)
    {
        using Tensor raw = tensor(pixels, [count, rows, cols], ScalarType.Byte);
        return ToModelInput(raw);
    }

    /// <summary>
    /// (N, 32, 32) uint8 pixels already at the model's size (e.g. generated images, or 28x28 digits padded in the
    /// byte domain) → (N, 1, 32, 32) float32 in [0, 1]: the same /255, without padding.
    /// </summary>
    public static Tensor ToModelInputUnpadded(Tensor pixels)
    {
        if (pixels.dim() != 3 || pixels.shape[1] != 32 || pixels.shape[2] != 32)
            throw new ArgumentException($"expected (N, 32, 32) pixels, got shape [{string.Join(", ", pixels.shape)}]", nameof(pixels));
        using var scope = NewDisposeScope();
        Tensor x = pixels.to_type(ScalarType.Float32).div_(255.0).unsqueeze(1);       // (N, 1, 32, 32)
        return x.contiguous().MoveToOuterDisposeScope();
    }
}
