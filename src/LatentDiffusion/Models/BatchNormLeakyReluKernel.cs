using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LatentDiffusion.Models;

/// <summary>
/// The arithmetic of <see cref="FusedBatchNormLeakyRelu"/>: training-mode batch normalisation followed by a leaky ReLU,
/// over <c>n</c> rows of <c>c</c> channels (a channels-last (B, C, H, W) tensor is B·H·W rows of C floats), C a
/// multiple of 8, one 256-bit vector of 8 channels at a time. Sums are taken in float over blocks of
/// <see cref="Block"/> rows and carried in double, so the statistics and gradient sums are more accurate than
/// libtorch's channels-last kernel (which sums row after row in float). Single-threaded: splitting the rows between
/// two .NET threads measured no faster in a training step, as libtorch's OpenMP worker spins on the other core
/// between its own parallel regions (and shortening that spin slows libtorch's ops more).
/// </summary>
internal static class BatchNormLeakyReluKernel
{
    /// <summary>Rows summed in float before the partial sum moves into double.</summary>
    private const int Block = 64;

    /// <summary>Whether <paramref name="channels"/> fits the kernel's 8-channel vectors.</summary>
    public static bool Fits(long channels) => channels > 0 && channels % 8 == 0;

    /// <summary>Per-channel mean of <paramref name="x"/> (<paramref name="n"/> rows).</summary>
    public static void Mean(ReadOnlySpan<float> x, int n, int c, Span<double> mean)
    {
        ref float xs = ref MemoryMarshal.GetReference(x);
        mean.Clear();
        for (int v = 0; v < c; v += 8)
        {
            for (int start = 0; start < n; start += Block)
            {
                int stop = Math.Min(n, start + Block);
                Vector256<float> a = default, b = default;   // two rows at a time
                int r = start;
                for (; r + 1 < stop; r += 2)
                {
                    a += Vector256.LoadUnsafe(ref xs, (nuint)((long)r * c + v));
                    b += Vector256.LoadUnsafe(ref xs, (nuint)((long)(r + 1) * c + v));
                }
                if (r < stop) a += Vector256.LoadUnsafe(ref xs, (nuint)((long)r * c + v));
                Accumulate(mean, v, a + b);
            }
        }
        for (int j = 0; j < c; j++) mean[j] /= n;
    }

    /// <summary>
    /// Per-channel biased variance of <paramref name="x"/> about <paramref name="mean"/> (its float32 rounding): the
    /// second pass of the two-pass algorithm, Σ(x − mean)²/n, free of E[x²] − E[x]²'s cancellation.
    /// </summary>
    public static void Variance(ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> mean, Span<double> variance)
    {
        ref float xs = ref MemoryMarshal.GetReference(x);
        variance.Clear();
        for (int v = 0; v < c; v += 8)
        {
            Vector256<float> m = Vector256.Create(mean.Slice(v, 8));
            for (int start = 0; start < n; start += Block)
            {
                int stop = Math.Min(n, start + Block);
                Vector256<float> a = default, b = default;
                int r = start;
                for (; r + 1 < stop; r += 2)
                {
                    Vector256<float> d = Vector256.LoadUnsafe(ref xs, (nuint)((long)r * c + v)) - m;
                    Vector256<float> e = Vector256.LoadUnsafe(ref xs, (nuint)((long)(r + 1) * c + v)) - m;
                    a += d * d; b += e * e;
                }
                if (r < stop)
                {
                    Vector256<float> d = Vector256.LoadUnsafe(ref xs, (nuint)((long)r * c + v)) - m;
                    a += d * d;
                }
                Accumulate(variance, v, a + b);
            }
        }
        for (int j = 0; j < c; j++) variance[j] /= n;
    }

    /// <summary>
    /// y = leaky_relu(z), z = (x − μ)·α + β per channel (α = weight·invstd, β = bias). Subtracting the mean first, as
    /// libtorch does, keeps z accurate when |μ| is large against the spread (x·α + (β − μα) would lose those digits).
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float slope, Span<float> y)
    {
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref float mu = ref MemoryMarshal.GetReference(mean);
        ref float a = ref MemoryMarshal.GetReference(alpha);
        ref float b = ref MemoryMarshal.GetReference(beta);
        Vector256<float> s = Vector256.Create(slope);
        for (long r = 0; r < n; r++)
        {
            for (int v = 0; v < c; v += 8)
            {
                nuint o = (nuint)(r * c + v);
                Vector256<float> z = Z(Vector256.LoadUnsafe(ref xs, o), Vector256.LoadUnsafe(ref mu, (nuint)v), Vector256.LoadUnsafe(ref a, (nuint)v), Vector256.LoadUnsafe(ref b, (nuint)v));
                LeakyRelu(z, s).StoreUnsafe(ref ys, o);
            }
        }
    }

    /// <summary>
    /// Adds to <paramref name="sumDz"/> and <paramref name="sumDzCentred"/> the per-channel Σ dz and Σ dz·(x − mean),
    /// where dz = dy · leaky_relu′(z) is the gradient reaching the normalisation's output, z as in <see cref="Normalize"/>.
    /// </summary>
    public static void GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> mean, float slope, Span<double> sumDz, Span<double> sumDzCentred)
    {
        ref float gs = ref MemoryMarshal.GetReference(dy);
        ref float xs = ref MemoryMarshal.GetReference(x);
        Vector256<float> s = Vector256.Create(slope);
        for (int v = 0; v < c; v += 8)
        {
            Vector256<float> a = Vector256.Create(alpha.Slice(v, 8)), b = Vector256.Create(beta.Slice(v, 8)), m = Vector256.Create(mean.Slice(v, 8));
            for (int start = 0; start < n; start += Block)
            {
                int stop = Math.Min(n, start + Block);
                Vector256<float> a1 = default, a2 = default;
                for (int r = start; r < stop; r++)
                {
                    nuint o = (nuint)((long)r * c + v);
                    Vector256<float> centred = Vector256.LoadUnsafe(ref xs, o) - m;
                    Vector256<float> dz = LeakyReluGradient(centred * a + b, Vector256.LoadUnsafe(ref gs, o), s);
                    a1 += dz;
                    a2 += dz * centred;
                }
                Accumulate(sumDz, v, a1);
                Accumulate(sumDzCentred, v, a2);
            }
        }
    }

    /// <summary>dx = k₁·dz + k₂·(x − μ) + k₃ per channel, dz as in <see cref="GradientSums"/>.</summary>
    public static void InputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float slope,
        ReadOnlySpan<float> k1, ReadOnlySpan<float> k2, ReadOnlySpan<float> k3, Span<float> dx)
    {
        ref float mu = ref MemoryMarshal.GetReference(mean);
        ref float gs = ref MemoryMarshal.GetReference(dy);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ds = ref MemoryMarshal.GetReference(dx);
        ref float a = ref MemoryMarshal.GetReference(alpha);
        ref float b = ref MemoryMarshal.GetReference(beta);
        ref float c1 = ref MemoryMarshal.GetReference(k1);
        ref float c2 = ref MemoryMarshal.GetReference(k2);
        ref float c3 = ref MemoryMarshal.GetReference(k3);
        Vector256<float> s = Vector256.Create(slope);
        for (long r = 0; r < n; r++)
        {
            for (int v = 0; v < c; v += 8)
            {
                nuint o = (nuint)(r * c + v), w = (nuint)v;
                Vector256<float> centred = Vector256.LoadUnsafe(ref xs, o) - Vector256.LoadUnsafe(ref mu, w);
                Vector256<float> dz = LeakyReluGradient(centred * Vector256.LoadUnsafe(ref a, w) + Vector256.LoadUnsafe(ref b, w), Vector256.LoadUnsafe(ref gs, o), s);
                (dz * Vector256.LoadUnsafe(ref c1, w) + centred * Vector256.LoadUnsafe(ref c2, w) + Vector256.LoadUnsafe(ref c3, w)).StoreUnsafe(ref ds, o);
            }
        }
    }

    /// <summary>The normalised value (x − μ)·α + β, computed alike in the forward and (for the leaky ReLU's mask) the backward.</summary>
    private static Vector256<float> Z(Vector256<float> x, Vector256<float> mean, Vector256<float> alpha, Vector256<float> beta) => (x - mean) * alpha + beta;

    private static Vector256<float> LeakyRelu(Vector256<float> z, Vector256<float> slope) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), z, z * slope);

    /// <summary>dy where z &gt; 0, else slope·dy (PyTorch's leaky_relu_backward: the slope at exactly 0).</summary>
    private static Vector256<float> LeakyReluGradient(Vector256<float> z, Vector256<float> dy, Vector256<float> slope) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), dy, dy * slope);

    private static void Accumulate(Span<double> sums, int v, Vector256<float> block)
    {
        for (int k = 0; k < 8; k++) sums[v + k] += block[k];
    }
}
