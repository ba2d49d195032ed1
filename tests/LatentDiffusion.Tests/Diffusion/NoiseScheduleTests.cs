using static TorchSharp.torch;
using LatentDiffusion.Diffusion;

namespace LatentDiffusion.Tests.Diffusion;

/// <summary>
/// The post's schedules (shared/series/parts-2-3.md, section 3.2) against its <c>make_linear_schedule</c> and
/// <c>make_cosine_schedule</c> run in PyTorch (Fixtures/pytorch-unet, T = 1000) and the values the series notes compute.
/// </summary>
[Collection("Torch")]
public sealed class NoiseScheduleTests
{
    static float[] PyTorch(string name) =>
        TestPaths.ReadFloats(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch-unet", $"alpha_bar_{name}.f32"));

    static NoiseSchedule Make(string name) => name == "linear" ? NoiseSchedule.Linear() : NoiseSchedule.Cosine();

    [Trait("Category", "Parity")]
    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void AlphasCumprod_OfT1000_ReproducePyTorch(string name)
    {
        using NoiseSchedule schedule = Make(name);
        Assert.Equal(name, schedule.Name);
        Assert.Equal(1000, schedule.Steps);
        Assert.Equal(ScalarType.Float32, schedule.AlphasCumprod.dtype);
        float[] expected = PyTorch(name);
        TensorAssert.CloseRelative(expected, schedule.AlphasCumprod, 1e-6, $"{name} ᾱ");
        Assert.Equal(schedule.AlphasCumprod.data<float>().ToArray(), schedule.Values);
    }

    [Fact]
    public void Linear_HasThePostsValues()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        IReadOnlyList<float> ab = schedule.Values;
        Assert.True(Math.Abs(ab[0] - 0.9999) <= 1e-6, $"ᾱ_1 = {ab[0]}");              // 1 − β_1 = 1 − 1e-4
        Assert.True(Math.Abs(ab[499] - 0.0786) <= 5e-5, $"ᾱ_500 = {ab[499]}");
        Assert.True(Math.Abs(ab[999] - 4.04e-5) <= 5e-8, $"ᾱ_1000 = {ab[999]}");
    }

    [Fact]
    public void Cosine_HasThePostsFinalValue()
    {
        using NoiseSchedule schedule = NoiseSchedule.Cosine();
        Assert.True(Math.Abs(schedule.Values[999] - 2.4e-6) <= 5e-8, $"ᾱ_1000 = {schedule.Values[999]}");
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("cosine")]
    public void AlphasCumprod_AreStrictlyDecreasingInZeroOne(string name)
    {
        using NoiseSchedule schedule = Make(name);
        IReadOnlyList<float> ab = schedule.Values;
        Assert.True(ab[0] < 1 && ab[^1] > 0, $"{name}: ᾱ_1 = {ab[0]}, ᾱ_T = {ab[^1]}");
        for (int i = 1; i < ab.Count; i++) Assert.True(ab[i] < ab[i - 1], $"{name}: ᾱ_{i + 1} = {ab[i]} ≥ ᾱ_{i} = {ab[i - 1]}");
    }

    [Fact]
    public void AlphaBar_OfTimes_IsValueAtTMinusOne()
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear(20);
        using Tensor t = tensor(new long[] { 1, 7, 20 });
        using Tensor ab = schedule.AlphaBar(t);                                            // (3, 1, 1, 1)
        Assert.Equal([3L, 1L, 1L, 1L], ab.shape);
        Assert.Equal(new[] { schedule.Values[0], schedule.Values[6], schedule.Values[19] }, ab.data<float>().ToArray());
    }
}
