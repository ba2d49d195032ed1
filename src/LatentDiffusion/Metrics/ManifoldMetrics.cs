using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>The neighbourhood sizes of the k-NN manifold metrics.</summary>
/// <param name="PrecisionRecallK">k of precision and recall: 3, the value Kynkäänniemi et al. 2019 use.</param>
/// <param name="DensityCoverageK">k of density and coverage: 5, the value Naeem et al. 2020 recommend.</param>
public sealed record ManifoldConfig(int PrecisionRecallK = 3, int DensityCoverageK = 5)
{
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PrecisionRecallK);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DensityCoverageK);
    }
}

/// <summary>
/// The real set of the manifold metrics with its k-NN radii, computed once (the N x N pass, the costly one) and
/// reused for every fake set scored against it.
/// </summary>
/// <param name="RadiusPrecisionRecall">NND_k(X_i)² for k = <see cref="ManifoldConfig.PrecisionRecallK"/>, (N,).</param>
/// <param name="RadiusDensityCoverage">NND_k(X_i)² for k = <see cref="ManifoldConfig.DensityCoverageK"/>, (N,).</param>
public sealed record RealManifold(FeatureMatrix Real, ManifoldConfig Config, double[] RadiusPrecisionRecall, double[] RadiusDensityCoverage, double Seconds);

/// <summary>Precision, recall, density and coverage of a fake (generated) set against a real one.</summary>
public sealed record ManifoldResult(double Precision, double Recall, double Density, double Coverage,
    int RealCount, int FakeCount, ManifoldConfig Config, double Seconds);

/// <summary>
/// The k-NN manifold metrics, exactly (every pairwise distance, in float64), as the reference code computes them
/// (clovaai/generative-evaluation-prdc, <c>compute_prdc</c>). With B(x, r) the ball around x of radius r and
/// NND_k(x) the distance from x to its k-th nearest neighbour in its own set (the point itself not counted):
/// <list type="bullet">
/// <item><b>precision</b> = (1/M) Σ_j 1[∃ i: Y_j ∈ B(X_i, NND_k(X_i))] — the fraction of fake samples inside the
/// real manifold (Kynkäänniemi et al. 2019, eq. 1-2);</item>
/// <item><b>recall</b> = (1/N) Σ_i 1[∃ j: X_i ∈ B(Y_j, NND_k(Y_j))] — the fraction of real samples inside the fake
/// manifold (ibid.);</item>
/// <item><b>density</b> = (1/kM) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))] — how many real balls hold each fake sample,
/// 1 on average for identical distributions and unbounded above (Naeem et al. 2020, eq. 3);</item>
/// <item><b>coverage</b> = (1/N) Σ_i 1[∃ j: Y_j ∈ B(X_i, NND_k(X_i))] — the fraction of real balls holding at least
/// one fake sample (ibid., eq. 4).</item>
/// </list>
/// X (N) real, Y (M) fake; "∈ B" is strict (d &lt; r), as in the code. Precision and recall use
/// <see cref="ManifoldConfig.PrecisionRecallK"/>, density and coverage <see cref="ManifoldConfig.DensityCoverageK"/>.
/// Three passes over tiles of <see cref="PairwiseDistances"/> (real-real, fake-fake, real-fake); memory stays at the
/// inputs, a few float64 per point and one tile.
/// </summary>
public static class ManifoldMetrics
{
    /// <summary>Precision, recall, density and coverage of <paramref name="fake"/> against <paramref name="real"/>.</summary>
    public static ManifoldResult Compute(FeatureMatrix real, FeatureMatrix fake, ManifoldConfig? config = null, PairwiseDistances? distances = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(fake);
        real.RequireSameWidth(fake);
        RealManifold manifold = Real(real, config, distances);
        ManifoldResult result = Compute(manifold, fake, distances);
        return result with { Seconds = manifold.Seconds + result.Seconds };
    }

    /// <summary>The real set's k-NN radii (both k), for scoring many fake sets against it.</summary>
    public static RealManifold Real(FeatureMatrix real, ManifoldConfig? config = null, PairwiseDistances? distances = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        config ??= new ManifoldConfig();
        config.Validate();
        distances ??= new PairwiseDistances();
        int kPr = config.PrecisionRecallK, kDc = config.DensityCoverageK;
        real.RequireNeighbours(Math.Max(kPr, kDc), "the real manifold");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using Tensor x = tensor(real.Data, [real.Rows, real.Cols], ScalarType.Float64);   // (N, D)
        double[][] radii = distances.KthNeighbourSquared(x, [kPr, kDc]);
        return new RealManifold(real, config, radii[0], radii[1], watch.Elapsed.TotalSeconds);
    }

    /// <summary>Precision, recall, density and coverage of <paramref name="fake"/> against a real set whose radii are at hand; <see cref="ManifoldResult.Seconds"/> is this call's time, the real radii's not included.</summary>
    public static ManifoldResult Compute(RealManifold manifold, FeatureMatrix fake, PairwiseDistances? distances = null)
    {
        ArgumentNullException.ThrowIfNull(manifold);
        ArgumentNullException.ThrowIfNull(fake);
        distances ??= new PairwiseDistances();
        FeatureMatrix real = manifold.Real;
        ManifoldConfig config = manifold.Config;
        real.RequireSameWidth(fake);
        int kPr = config.PrecisionRecallK, kDc = config.DensityCoverageK;
        fake.RequireNeighbours(kPr, "the fake manifold (recall)");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        using Tensor x = tensor(real.Data, [real.Rows, real.Cols], ScalarType.Float64);   // (N, D) real
        using Tensor y = tensor(fake.Data, [fake.Rows, fake.Cols], ScalarType.Float64);   // (M, D) fake
        double[] realPr = manifold.RadiusPrecisionRecall, realDc = manifold.RadiusDensityCoverage;   // NND_k(X_i)², (N,)
        double[] fakePr = distances.KthNeighbourSquared(y, [kPr])[0];                                 // NND_k(Y_j)², (M,)

        int n = real.Rows, m = fake.Rows;
        var inRealBalls = new long[m];      // Σ_i 1[Y_j ∈ B(X_i, NND_kPr)]: precision is its > 0
        var inRealBallsDc = new long[m];    // Σ_i 1[Y_j ∈ B(X_i, NND_kDc)]: density's numerator
        var inFakeManifold = new bool[n];   // recall
        var covered = new bool[n];          // coverage
        var merge = new object();
        distances.ForEachTile(x, y, sameSet: false, tile => Parallel.For(0, tile.Rows,
            () => (Pr: new long[tile.Cols], Dc: new long[tile.Cols]),
            (i, _, local) =>
            {
                int r = tile.RowStart + i;
                double rPr = realPr[r], rDc = realDc[r];
                bool recall = false, coverage = false;
                ReadOnlySpan<double> row = tile.Row(i);
                for (int j = 0; j < row.Length; j++)
                {
                    double d = row[j];
                    if (d < rPr) local.Pr[j]++;
                    if (d < rDc) { local.Dc[j]++; coverage = true; }
                    if (d < fakePr[tile.ColStart + j]) recall = true;
                }
                if (recall) inFakeManifold[r] = true;
                if (coverage) covered[r] = true;
                return local;
            },
            local =>
            {
                lock (merge)
                    for (int j = 0; j < tile.Cols; j++)
                    {
                        inRealBalls[tile.ColStart + j] += local.Pr[j];
                        inRealBallsDc[tile.ColStart + j] += local.Dc[j];
                    }
            }));

        // The reference's float64 expressions: a mean of 0/1 values is count / size; density is (1/k) · mean(count).
        double precision = (double)inRealBalls.Count(c => c > 0) / m;
        double recall = (double)inFakeManifold.Count(b => b) / n;
        double density = 1.0 / kDc * ((double)inRealBallsDc.Sum() / m);
        double coverage = (double)covered.Count(b => b) / n;
        return new ManifoldResult(precision, recall, density, coverage, n, m, config, watch.Elapsed.TotalSeconds);
    }
}
