using static TorchSharp.torch;

namespace LatentDiffusion.Tests;

/// <summary>Comparisons of tensors against reference arrays (PyTorch fixtures).</summary>
public static class TensorAssert
{
    /// <summary>
    /// max |expected − actual| ≤ <paramref name="relative"/> · max |expected| (relative to the array's scale, so
    /// values near zero are not held to an impossible per-element ratio).
    /// </summary>
    public static void CloseRelative(float[] expected, Tensor actual, double relative, string what = "values")
    {
        float[] got = actual.detach().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        double scale = Math.Max(expected.Max(v => Math.Abs((double)v)), 1e-30);
        double worst = expected.Zip(got, (e, g) => Math.Abs((double)e - g)).Max();
        Assert.True(worst <= relative * scale, $"{what}: max abs difference {worst:E3} > {relative:E0} x scale {scale:E3}");
    }

    public static void CloseRelative(float[] expected, float[] actual, double relative, string what = "values") =>
        CloseRelative(expected.Select(v => (double)v).ToArray(), actual.Select(v => (double)v).ToArray(), relative, what);

    public static void CloseRelative(double[] expected, double[] actual, double relative, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(Math.Abs), 1e-30);
        double worst = expected.Zip(actual, (e, g) => Math.Abs(e - g)).Max();
        Assert.True(worst <= relative * scale, $"{what}: max abs difference {worst:E3} > {relative:E0} x scale {scale:E3}");
    }
}
