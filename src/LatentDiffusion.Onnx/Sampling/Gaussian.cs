namespace LatentDiffusion.Onnx.Sampling;

/// <summary>
/// Seeded N(0, 1) float32 draws (Box–Muller on <see cref="Random"/>'s seeded stream): the same numbers for the same seed
/// on every run and machine. Not libtorch's generator, so a seed gives other digits than <c>ldm generate</c>'s; the
/// parity tests pass the same initial noise to both instead.
/// </summary>
public sealed class Gaussian(long seed)
{
    readonly Random random = new(unchecked((int)(seed ^ (seed >> 32))));

    /// <summary><paramref name="count"/> independent standard normal draws.</summary>
    public float[] Next(int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();                      // u1 ∈ (0, 1]: log is finite
            double r = Math.Sqrt(-2.0 * Math.Log(u1)), theta = 2.0 * Math.PI * u2;
            values[i] = (float)(r * Math.Cos(theta));
            if (i + 1 < count) values[i + 1] = (float)(r * Math.Sin(theta));
        }
        return values;
    }
}
