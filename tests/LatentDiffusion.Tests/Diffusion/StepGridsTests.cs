using LatentDiffusion.Diffusion;

namespace LatentDiffusion.Tests.Diffusion;

public sealed class StepGridsTests
{
    [Fact]
    public void Alphas_Uniform_AreThePostsLevelsBitForBit()
    {
        for (int steps = 1; steps <= 300; steps++)
        {
            double[] alphas = StepGrids.Alphas(steps, StepSpacing.Uniform);
            Assert.Equal(steps + 1, alphas.Length);
            for (int i = 0; i <= steps; i++) Assert.Equal((double)(steps - i) / steps, alphas[i]);   // the post's k/S, k = S … 0
        }
    }

    [Theory]
    [InlineData(StepSpacing.Karras)]
    [InlineData(StepSpacing.LogSnr)]
    public void Alphas_Spaced_RunFromNoiseToData_StrictlyDown_CrowdingAtLowNoise(StepSpacing spacing)
    {
        foreach (int steps in new[] { 1, 2, 3, 5, 10, 50 })
        {
            double[] alphas = StepGrids.Alphas(steps, spacing);
            Assert.Equal(1.0, alphas[0]);
            Assert.Equal(0.0, alphas[^1]);
            for (int i = 1; i < alphas.Length; i++) Assert.True(alphas[i] < alphas[i - 1], $"{spacing} {steps}: {string.Join(", ", alphas)}");
        }
        double[] ten = StepGrids.Alphas(10, spacing);
        Assert.True(ten[^2] < 0.1 && ten[1] > 0.9, $"{spacing}: {string.Join(", ", ten)}");   // below the uniform grid's last level, above its first
        double sigma = StepGrids.Sigma(spacing, 0, StepGrids.SigmaMax, StepGrids.SigmaMin);
        Assert.Equal(StepGrids.SigmaMax, sigma, 9);
        Assert.Equal(StepGrids.SigmaMin, StepGrids.Sigma(spacing, 1, StepGrids.SigmaMax, StepGrids.SigmaMin), 12);
    }

    [Theory]
    [InlineData(StepSpacing.Uniform)]
    [InlineData(StepSpacing.Karras)]
    [InlineData(StepSpacing.LogSnr)]
    public void Timesteps_RunFromTDownToOne_StrictlyDown_AnyCount(StepSpacing spacing)
    {
        using NoiseSchedule schedule = NoiseSchedule.Linear();
        foreach (int steps in new[] { 1, 2, 5, 10, 20, 100, 999, 1000 })
        {
            int[] times = StepGrids.Timesteps(schedule, steps, spacing);
            Assert.Equal(steps, times.Length);
            Assert.Equal(1000, times[0]);
            if (steps > 1) Assert.Equal(1, times[^1]);
            for (int i = 1; i < times.Length; i++) Assert.True(times[i] < times[i - 1], $"{spacing} {steps}: {string.Join(", ", times)}");
        }
        Assert.Equal(Ddim.Timesteps(1000, 10), StepGrids.Timesteps(schedule, 10, StepSpacing.Uniform));
    }
}
