using System.Globalization;
using System.Text;
using LatentDiffusion.IO;
using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// How close one feature's distribution is to a normal. Moments are the population (biased) ones, as
/// <c>scipy.stats.skew</c>/<c>kurtosis</c> compute by default: skewness g1 = m3 / m2^1.5, excess kurtosis
/// g2 = m4 / m2² − 3, with m_k the k-th central moment and Std = √m2 (the maximum-likelihood normal fit).
/// </summary>
/// <param name="KsDistance">
/// Kolmogorov–Smirnov distance to the fitted normal N(Mean, Std²): sup_x |F_n(x) − Φ((x − Mean)/Std)|. NaN for a
/// constant feature (Std = 0), as are Skewness and ExcessKurtosis.
/// </param>
public sealed record FeatureNormalityRow(int Feature, double Mean, double Std, double Skewness, double ExcessKurtosis, double KsDistance);

/// <summary>Counts over all features: how many look normal by each measure.</summary>
/// <param name="SampleSize">Samples per feature (N).</param>
/// <param name="SmallSkew">Features with |skewness| below <paramref name="SkewThreshold"/>.</param>
/// <param name="SmallKurtosis">Features with |excess kurtosis| below <paramref name="KurtosisThreshold"/>.</param>
/// <param name="BothSmall">Features meeting both thresholds.</param>
/// <param name="KsCritical">
/// Lilliefors' large-sample 5 % critical value 0.886/√N for a KS distance to a normal whose mean and variance were
/// fitted to the same sample (Lilliefors 1967, table 1): a distance above it rejects normality at α = 0.05.
/// </param>
/// <param name="AboveKsCritical">Features whose KS distance exceeds <paramref name="KsCritical"/>.</param>
public sealed record NormalitySummary(
    int Features, int SampleSize, double SkewThreshold, double KurtosisThreshold,
    int SmallSkew, int SmallKurtosis, int BothSmall,
    double MedianAbsSkewness, double MedianAbsExcessKurtosis, double MedianKs, double MaxKs,
    double KsCritical, int AboveKsCritical);

/// <summary>Per-feature normality statistics of a feature matrix (part 1's FID assumes Gaussian features).</summary>
public static class FeatureNormality
{
    public const string CsvName = "normality.csv";

    /// <summary>
    /// Statistics of every column of <paramref name="features"/> (N, D), computed in float64. The KS distance is the
    /// exact supremum over the sorted sample x_(1) ≤ … ≤ x_(N), taking both sides of each step of the empirical CDF:
    /// max_i max(i/N − Φ(z_i), Φ(z_i) − (i−1)/N). Ties need no special case: the sup over a tied run is reached at its
    /// first and last elements, which the formula visits.
    /// </summary>
    public static IReadOnlyList<FeatureNormalityRow> Measure(Tensor features)
    {
        if (features.dim() != 2) throw new ArgumentException($"expected (N, D) features, got shape [{string.Join(", ", features.shape)}]", nameof(features));
        long n = features.shape[0];
        if (n < 2) throw new ArgumentException($"need at least 2 samples per feature, got {n}", nameof(features));
        using var scope = NewDisposeScope();
        Tensor x = features.to_type(ScalarType.Float64);                 // (N, D)
        Tensor mean = x.mean([0]);                                        // (D,)
        Tensor centered = x - mean;
        Tensor m2 = centered.pow(2).mean([0]);
        Tensor m3 = centered.pow(3).mean([0]);
        Tensor m4 = centered.pow(4).mean([0]);
        Tensor std = m2.sqrt();
        Tensor skew = m3 / m2.pow(1.5);
        Tensor kurt = m4 / m2.pow(2) - 3.0;

        Tensor sorted = x.sort(dim: 0).Values;                            // (N, D), each column ascending
        Tensor cdf = special.ndtr((sorted - mean) / std);                 // Φ(z_(i)), (N, D)
        Tensor rank = arange(1, n + 1, ScalarType.Float64).unsqueeze(1);  // (N, 1): i = 1..N
        Tensor above = (rank / n - cdf).amax([0]);                        // F_n reaches i/N at x_(i)
        Tensor below = (cdf - (rank - 1) / n).amax([0]);                  // and was (i−1)/N just before it
        Tensor ks = maximum(above, below);

        double[] means = mean.data<double>().ToArray(), stds = std.data<double>().ToArray();
        double[] skews = skew.data<double>().ToArray(), kurts = kurt.data<double>().ToArray(), dists = ks.data<double>().ToArray();
        var rows = new FeatureNormalityRow[means.Length];
        for (int d = 0; d < rows.Length; d++)
        {
            bool constant = !(stds[d] > 0);
            rows[d] = new FeatureNormalityRow(d, means[d], stds[d],
                constant ? double.NaN : skews[d], constant ? double.NaN : kurts[d], constant ? double.NaN : dists[d]);
        }
        return rows;
    }

    /// <summary>Statistics of one sample (a single feature).</summary>
    public static FeatureNormalityRow Measure(double[] sample)
    {
        using Tensor column = tensor(sample, [sample.Length, 1], ScalarType.Float64);
        return Measure(column)[0];
    }

    /// <summary>How many features fall under the thresholds, and the median distances. NaN rows count as not small.</summary>
    public static NormalitySummary Summarize(IReadOnlyList<FeatureNormalityRow> rows, int sampleSize, double skewThreshold = 0.5, double kurtosisThreshold = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfZero(rows.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleSize);
        double critical = 0.886 / Math.Sqrt(sampleSize);
        return new NormalitySummary(
            rows.Count, sampleSize, skewThreshold, kurtosisThreshold,
            SmallSkew: rows.Count(r => Math.Abs(r.Skewness) < skewThreshold),
            SmallKurtosis: rows.Count(r => Math.Abs(r.ExcessKurtosis) < kurtosisThreshold),
            BothSmall: rows.Count(r => Math.Abs(r.Skewness) < skewThreshold && Math.Abs(r.ExcessKurtosis) < kurtosisThreshold),
            MedianAbsSkewness: Median(rows.Select(r => Math.Abs(r.Skewness))),
            MedianAbsExcessKurtosis: Median(rows.Select(r => Math.Abs(r.ExcessKurtosis))),
            MedianKs: Median(rows.Select(r => r.KsDistance)),
            MaxKs: rows.Select(r => r.KsDistance).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max(),
            KsCritical: critical,
            AboveKsCritical: rows.Count(r => r.KsDistance > critical));
    }

    /// <summary>The rows as CSV: <c>feature,mean,std,skewness,excess_kurtosis,ks_distance</c>, round-trip precision.</summary>
    public static string ToCsv(IReadOnlyList<FeatureNormalityRow> rows)
    {
        var csv = new StringBuilder("feature,mean,std,skewness,excess_kurtosis,ks_distance\n");
        foreach (FeatureNormalityRow r in rows)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Feature},{r.Mean:R},{r.Std:R},{r.Skewness:R},{r.ExcessKurtosis:R},{r.KsDistance:R}"));
        return csv.ToString();
    }

    public static void WriteCsv(string path, IReadOnlyList<FeatureNormalityRow> rows) => AtomicFile.WriteAllText(path, ToCsv(rows));

    /// <summary>Median of the finite values; NaN when there are none.</summary>
    internal static double Median(IEnumerable<double> values)
    {
        double[] v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0) return double.NaN;
        int mid = v.Length / 2;
        return v.Length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    }
}
