namespace LatentDiffusion.Onnx.Sampling;

/// <summary>
/// Seeded N(0, 1) float32 draws: Box–Muller on uniform doubles of 53 bits from xoshiro256** (Blackman and Vigna 2018),
/// its state filled by SplitMix64 from the seed as the authors recommend. The same numbers for the same seed on every run
/// and machine. Not .NET's seeded <see cref="Random"/>, whose legacy subtractive generator (kept for compatibility
/// whenever a seed is given) has known statistical defects. Not libtorch's generator either, so a seed gives other
/// digits than <c>ldm generate</c>'s; the parity tests pass the same initial noise to both instead.
/// </summary>
public sealed class Gaussian
{
    ulong s0, s1, s2, s3;

    public Gaussian(long seed)
    {
        ulong x = unchecked((ulong)seed);
        s0 = SplitMix64(ref x);
        s1 = SplitMix64(ref x);
        s2 = SplitMix64(ref x);
        s3 = SplitMix64(ref x);
    }

    /// <summary><paramref name="count"/> independent standard normal draws.</summary>
    public float[] Next(int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - Uniform(), u2 = Uniform();                                        // u1 ∈ (0, 1]: log is finite
            double r = Math.Sqrt(-2.0 * Math.Log(u1)), theta = 2.0 * Math.PI * u2;
            values[i] = (float)(r * Math.Cos(theta));
            if (i + 1 < count) values[i + 1] = (float)(r * Math.Sin(theta));
        }
        return values;
    }

    /// <summary>A uniform double in [0, 1): the top 53 bits of the next output.</summary>
    double Uniform() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>xoshiro256** (prng.di.unimi.it): rotl(s1·5, 7)·9, then the state's xor-shift-rotate update.</summary>
    ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    internal static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
