namespace LatentDiffusion.Diffusion;

/// <summary>
/// DDIM's evaluation times (Song, Meng and Ermon 2021) as every sampler of an ε-model uses them: S times evenly spaced
/// over 1..T, both ends included, descending: τ_i = round(1 + i(T − 1)/(S − 1)); S = 1 gives [T]. Starting at T (Lin et
/// al. 2024, "trailing" spacing) makes the first step see the noise the model was trained on.
/// </summary>
public static class TrailingTimesteps
{
    public static int[] Of(int totalSteps, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, totalSteps);
        if (steps == 1) return [totalSteps];
        var times = new int[steps];
        for (int i = 0; i < steps; i++)
            times[steps - 1 - i] = (int)Math.Round(1 + (double)i * (totalSteps - 1) / (steps - 1), MidpointRounding.AwayFromZero);
        return times;
    }
}
