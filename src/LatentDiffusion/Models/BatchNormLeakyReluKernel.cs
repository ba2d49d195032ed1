using System.Buffers;
using System.Runtime.Intrinsics;
using LatentDiffusion.Native;

namespace LatentDiffusion.Models;

/// <summary>
/// The arithmetic of <see cref="FusedBatchNormLeakyRelu"/>: training-mode batch normalisation followed by a leaky ReLU,
/// over <c>n</c> rows of <c>c</c> channels (a channels-last (B, C, H, W) tensor is B·H·W rows of C floats), C a
/// multiple of 8, one 256-bit vector of 8 channels at a time. Sums are taken in float over blocks of
/// <see cref="Block"/> rows and carried in double, so the statistics and gradient sums are more accurate than
/// libtorch's channels-last kernel (which sums row after row in float). Each pass splits its rows (in whole blocks)
/// over libtorch's OpenMP team (<see cref="OpenMpTeam"/>, on its intra-op thread count); the block sums are added in
/// block order afterwards, so the results are the same bits on any number of threads. (Splitting the rows between two
/// .NET threads instead measured slower in a training step: libtorch's OpenMP worker spins on the other core between
/// its own parallel regions.)
/// </summary>
internal static unsafe class BatchNormLeakyReluKernel
{
    /// <summary>Rows summed in float before the partial sum moves into double.</summary>
    private const int Block = 64;

    /// <summary>Below this many floats a pass runs on one thread (a parallel region costs microseconds).</summary>
    private const long ParallelFloats = 1 << 15;

    /// <summary>Whether <paramref name="channels"/> fits the kernel's 8-channel vectors.</summary>
    public static bool Fits(long channels) => channels > 0 && channels % 8 == 0;

    /// <summary>Per-channel mean of <paramref name="x"/> (<paramref name="n"/> rows).</summary>
    public static void Mean(ReadOnlySpan<float> x, int n, int c, Span<double> mean)
    {
        fixed (float* xp = x)
        {
            nint xs = (nint)xp;
            SumBlocks(n, c, mean, (start, stop, sums) =>
            {
                float* x0 = (float*)xs;
                for (int v = 0; v < c; v += 8)
                {
                    Vector256<float> a = default, b = default;   // two rows at a time
                    int r = start;
                    for (; r + 1 < stop; r += 2)
                    {
                        a += Vector256.Load(x0 + (long)r * c + v);
                        b += Vector256.Load(x0 + (long)(r + 1) * c + v);
                    }
                    if (r < stop) a += Vector256.Load(x0 + (long)r * c + v);
                    Store(sums, v, a + b);
                }
            });
        }
        for (int j = 0; j < c; j++) mean[j] /= n;
    }

    /// <summary>
    /// Per-channel biased variance of <paramref name="x"/> about <paramref name="mean"/> (its float32 rounding): the
    /// second pass of the two-pass algorithm, Σ(x − mean)²/n, free of E[x²] − E[x]²'s cancellation.
    /// </summary>
    public static void Variance(ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> mean, Span<double> variance)
    {
        fixed (float* xp = x, mp = mean)
        {
            nint xs = (nint)xp, ms = (nint)mp;
            SumBlocks(n, c, variance, (start, stop, sums) =>
            {
                float* x0 = (float*)xs;
                for (int v = 0; v < c; v += 8)
                {
                    Vector256<float> m = Vector256.Load((float*)ms + v);
                    Vector256<float> a = default, b = default;
                    int r = start;
                    for (; r + 1 < stop; r += 2)
                    {
                        Vector256<float> d = Vector256.Load(x0 + (long)r * c + v) - m;
                        Vector256<float> e = Vector256.Load(x0 + (long)(r + 1) * c + v) - m;
                        a += d * d; b += e * e;
                    }
                    if (r < stop)
                    {
                        Vector256<float> d = Vector256.Load(x0 + (long)r * c + v) - m;
                        a += d * d;
                    }
                    Store(sums, v, a + b);
                }
            });
        }
        for (int j = 0; j < c; j++) variance[j] /= n;
    }

    /// <summary>
    /// y = leaky_relu(z), z = (x − μ)·α + β per channel (α = weight·invstd, β = bias). Subtracting the mean first, as
    /// libtorch does, keeps z accurate when |μ| is large against the spread (x·α + (β − μα) would lose those digits).
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float slope, Span<float> y)
    {
        fixed (float* xp = x, yp = y, mp = mean, ap = alpha, bp = beta)
        {
            var (xs, ys, ms, As, bs) = ((nint)xp, (nint)yp, (nint)mp, (nint)ap, (nint)bp);
            ForRows(n, c, (start, stop) =>
            {
                float* x0 = (float*)xs, y0 = (float*)ys, mu = (float*)ms, a = (float*)As, b = (float*)bs;
                Vector256<float> s = Vector256.Create(slope);
                for (long r = start; r < stop; r++)
                {
                    for (int v = 0; v < c; v += 8)
                    {
                        long o = r * c + v;
                        Vector256<float> z = Z(Vector256.Load(x0 + o) - Vector256.Load(mu + v), Vector256.Load(a + v), Vector256.Load(b + v));
                        LeakyRelu(z, s).Store(y0 + o);
                    }
                }
            });
        }
    }

    /// <summary>
    /// The per-channel Σ dz and Σ dz·(x − mean), where dz = dy · leaky_relu′(z) is the gradient reaching the
    /// normalisation's output, z as in <see cref="Normalize"/>.
    /// </summary>
    public static void GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> mean, float slope, Span<double> sumDz, Span<double> sumDzCentred)
    {
        Span<double> both = stackalloc double[2 * c];   // Σ dz for every channel, then Σ dz·(x − mean)
        fixed (float* gp = dy, xp = x, ap = alpha, bp = beta, mp = mean)
        {
            var (gs, xs, As, bs, ms) = ((nint)gp, (nint)xp, (nint)ap, (nint)bp, (nint)mp);
            SumBlocks(n, c, both, (start, stop, sums) =>
            {
                float* g0 = (float*)gs, x0 = (float*)xs;
                Vector256<float> s = Vector256.Create(slope);
                for (int v = 0; v < c; v += 8)
                {
                    Vector256<float> a = Vector256.Load((float*)As + v), b = Vector256.Load((float*)bs + v), m = Vector256.Load((float*)ms + v);
                    Vector256<float> a1 = default, a2 = default;
                    for (long r = start; r < stop; r++)
                    {
                        long o = r * c + v;
                        Vector256<float> centred = Vector256.Load(x0 + o) - m;
                        Vector256<float> dz = LeakyReluGradient(Z(centred, a, b), Vector256.Load(g0 + o), s);
                        a1 += dz;
                        a2 += dz * centred;
                    }
                    Store(sums, v, a1);
                    Store(sums, c + v, a2);
                }
            });
        }
        both[..c].CopyTo(sumDz);
        both[c..].CopyTo(sumDzCentred);
    }

    /// <summary>dx = k₁·dz + k₂·(x − μ) + k₃ per channel, dz as in <see cref="GradientSums"/>.</summary>
    public static void InputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, ReadOnlySpan<float> mean, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float slope,
        ReadOnlySpan<float> k1, ReadOnlySpan<float> k2, ReadOnlySpan<float> k3, Span<float> dx)
    {
        fixed (float* gp = dy, xp = x, dp = dx, mp = mean, ap = alpha, bp = beta, c1p = k1, c2p = k2, c3p = k3)
        {
            var (gs, xs, ds, ms, As, bs) = ((nint)gp, (nint)xp, (nint)dp, (nint)mp, (nint)ap, (nint)bp);
            var (c1s, c2s, c3s) = ((nint)c1p, (nint)c2p, (nint)c3p);
            ForRows(n, c, (start, stop) =>
            {
                float* g0 = (float*)gs, x0 = (float*)xs, d0 = (float*)ds, mu = (float*)ms, a = (float*)As, b = (float*)bs;
                float* q1 = (float*)c1s, q2 = (float*)c2s, q3 = (float*)c3s;
                Vector256<float> s = Vector256.Create(slope);
                for (long r = start; r < stop; r++)
                {
                    for (int v = 0; v < c; v += 8)
                    {
                        long o = r * c + v;
                        Vector256<float> centred = Vector256.Load(x0 + o) - Vector256.Load(mu + v);
                        Vector256<float> dz = LeakyReluGradient(Z(centred, Vector256.Load(a + v), Vector256.Load(b + v)), Vector256.Load(g0 + o), s);
                        (dz * Vector256.Load(q1 + v) + centred * Vector256.Load(q2 + v) + Vector256.Load(q3 + v)).Store(d0 + o);
                    }
                }
            });
        }
    }

    /// <summary>Fills the per-channel sums of rows [start, stop) (one block) into <c>sums</c>.</summary>
    private delegate void BlockSums(int start, int stop, Span<double> sums);

    /// <summary>
    /// <paramref name="sums"/> = Σ over blocks of <paramref name="block"/>'s sums, added in block order after the blocks
    /// (split in whole blocks over the team) have been summed: the same bits on any number of threads.
    /// </summary>
    private static void SumBlocks(int n, int c, Span<double> sums, BlockSums block)
    {
        int blocks = (n + Block - 1) / Block, width = sums.Length;
        double[] partial = ArrayPool<double>.Shared.Rent(blocks * width);
        try
        {
            int parts = Parts(n, c, blocks);
            OpenMpTeam.Run(parts, p =>
            {
                int first = (int)((long)blocks * p / parts), last = (int)((long)blocks * (p + 1) / parts);
                for (int k = first; k < last; k++) block(k * Block, Math.Min(n, (k + 1) * Block), partial.AsSpan(k * width, width));
            });
            sums.Clear();
            for (int k = 0; k < blocks; k++)
            {
                ReadOnlySpan<double> one = partial.AsSpan(k * width, width);
                for (int i = 0; i < width; i++) sums[i] += one[i];
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }

    /// <summary>Runs <paramref name="rows"/> over [0, n) in contiguous ranges of whole blocks, one per thread of the team.</summary>
    private static void ForRows(int n, int c, Action<int, int> rows)
    {
        int blocks = (n + Block - 1) / Block;
        int parts = Parts(n, c, blocks);
        OpenMpTeam.Run(parts, p => rows(Math.Min(n, (int)((long)blocks * p / parts) * Block), Math.Min(n, (int)((long)blocks * (p + 1) / parts) * Block)));
    }

    /// <summary>For tests: at most this many parts per pass on the calling thread (0: as many as the team has threads).</summary>
    [ThreadStatic] internal static int MaxParts;

    private static int Parts(int n, int c, int blocks)
    {
        if ((long)n * c < ParallelFloats) return 1;
        int parts = Math.Min(blocks, OpenMpTeam.Threads);
        return MaxParts > 0 ? Math.Min(parts, MaxParts) : parts;
    }

    /// <summary>The normalised value (x − μ)·α + β from the centred x − μ, computed alike in the forward and (for the leaky ReLU's mask) the backward.</summary>
    private static Vector256<float> Z(Vector256<float> centred, Vector256<float> alpha, Vector256<float> beta) => centred * alpha + beta;

    private static Vector256<float> LeakyRelu(Vector256<float> z, Vector256<float> slope) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), z, z * slope);

    /// <summary>dy where z &gt; 0, else slope·dy (PyTorch's leaky_relu_backward: the slope at exactly 0).</summary>
    private static Vector256<float> LeakyReluGradient(Vector256<float> z, Vector256<float> dy, Vector256<float> slope) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), dy, dy * slope);

    /// <summary>One block's float sums of channels v … v + 7, as doubles.</summary>
    private static void Store(Span<double> sums, int v, Vector256<float> block)
    {
        for (int k = 0; k < 8; k++) sums[v + k] = block[k];
    }
}
