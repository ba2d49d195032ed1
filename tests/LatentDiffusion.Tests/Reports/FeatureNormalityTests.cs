using LatentDiffusion.Reports;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

public class FeatureNormalityTests
{
    /// <summary>Φ(−1): the KS distance between Exp(1) and N(1, 1), reached at x = 0 where Exp's CDF starts.</summary>
    const double PhiMinusOne = 0.15865525393145707;

    [Fact]
    public void Measure_ThreePoints_MatchesHandComputedValues()
    {
        // {−1, 0, 1}: μ = 0, σ² = 2/3, m4 = 2/3 → g2 = (2/3)/(4/9) − 3 = −1.5. KS: z = ±√1.5, 0 and
        // D = max(1/3 − Φ(−1.2247), …) = 0.22299765237340996 (Python math.erfc over the same formula).
        FeatureNormalityRow row = FeatureNormality.Measure([-1.0, 0.0, 1.0]);
        Assert.Equal(0.0, row.Mean, 12);
        Assert.Equal(Math.Sqrt(2.0 / 3.0), row.Std, 12);
        Assert.Equal(0.0, row.Skewness, 12);
        Assert.Equal(-1.5, row.ExcessKurtosis, 12);
        Assert.Equal(0.22299765237340996, row.KsDistance, 12);
    }

    [Fact]
    public void Measure_NormalSample_HasNoSkewNoExcessKurtosisAndSmallKs()
    {
        FeatureNormalityRow row = FeatureNormality.Measure(NormalSample(50_000, seed: 7));
        // Standard errors at N = 50 000: skewness √(6/N) ≈ 0.011, kurtosis √(24/N) ≈ 0.022.
        Assert.InRange(row.Skewness, -0.05, 0.05);
        Assert.InRange(row.ExcessKurtosis, -0.1, 0.1);
        Assert.InRange(row.KsDistance, 0, 0.01);
        Assert.Equal(0.0, row.Mean, 1);
        Assert.Equal(1.0, row.Std, 1);
    }

    [Fact]
    public void Measure_ExponentialQuantiles_MatchesExponentialMoments()
    {
        // x_i = −ln(1 − (i − ½)/N): a deterministic Exp(1) sample. Exp(1) has skewness 2 and excess kurtosis 6; the
        // finite sample loses a little tail (Python on the same sample: 1.99859, 5.97284, KS 0.158647).
        const int n = 100_000;
        double[] sample = Enumerable.Range(1, n).Select(i => -Math.Log(1 - (i - 0.5) / n)).ToArray();
        FeatureNormalityRow row = FeatureNormality.Measure(sample);
        Assert.Equal(1.99859, row.Skewness, 4);
        Assert.Equal(5.97284, row.ExcessKurtosis, 4);
        Assert.Equal(0.158647, row.KsDistance, 5);
        Assert.Equal(PhiMinusOne, row.KsDistance, 3);
    }

    [Fact]
    public void Measure_Matrix_MeasuresEachColumnOnItsOwn()
    {
        double[] a = NormalSample(1000, seed: 1);
        double[] b = a.Select(v => Math.Exp(v)).ToArray();
        double[] interleaved = a.Zip(b).SelectMany(p => new[] { p.First, p.Second }).ToArray();
        using Tensor matrix = tensor(interleaved, [a.Length, 2], ScalarType.Float64);
        IReadOnlyList<FeatureNormalityRow> rows = FeatureNormality.Measure(matrix);
        AssertClose(FeatureNormality.Measure(a), rows[0]);
        AssertClose(FeatureNormality.Measure(b), rows[1]);
        Assert.Equal([0, 1], rows.Select(r => r.Feature));
    }

    static void AssertClose(FeatureNormalityRow expected, FeatureNormalityRow actual)
    {
        Assert.Equal(expected.Mean, actual.Mean, 1e-12);
        Assert.Equal(expected.Std, actual.Std, 1e-12);
        Assert.Equal(expected.Skewness, actual.Skewness, 1e-12);
        Assert.Equal(expected.ExcessKurtosis, actual.ExcessKurtosis, 1e-12);
        Assert.Equal(expected.KsDistance, actual.KsDistance, 1e-12);
    }

    [Fact]
    public void Measure_Ties_TakeTheWholeJumpOfTheEmpiricalCdf()
    {
        // {0, 0, 0, 1}: μ = ¼, σ = √3/4. F_n jumps from 0 to ¾ at 0, so D = max(Φ(z0), ¾ − Φ(z0), 1 − Φ(z1), Φ(z1) − ¾).
        FeatureNormalityRow row = FeatureNormality.Measure([0.0, 0.0, 0.0, 1.0]);
        double sigma = Math.Sqrt(3) / 4;
        double p0 = Phi(-0.25 / sigma), p1 = Phi(0.75 / sigma);
        double expected = new[] { p0, 0.75 - p0, 1 - p1, p1 - 0.75 }.Max();
        Assert.Equal(expected, row.KsDistance, 6);
    }

    [Fact]
    public void Measure_ConstantFeature_GivesNaNShapeStatistics()
    {
        FeatureNormalityRow row = FeatureNormality.Measure([3.0, 3.0, 3.0]);
        Assert.Equal(3.0, row.Mean, 12);
        Assert.Equal(0.0, row.Std);
        Assert.True(double.IsNaN(row.Skewness) && double.IsNaN(row.ExcessKurtosis) && double.IsNaN(row.KsDistance));
    }

    [Fact]
    public void Summarize_CountsThresholdsAndMedians()
    {
        FeatureNormalityRow[] rows =
        [
            new(0, 0, 1, 0.1, 0.2, 0.01),
            new(1, 0, 1, -0.6, 0.5, 0.03),
            new(2, 0, 1, 0.4, -1.5, 0.02),
            new(3, 0, 0, double.NaN, double.NaN, double.NaN),
        ];
        NormalitySummary s = FeatureNormality.Summarize(rows, sampleSize: 10_000);
        Assert.Equal(4, s.Features);
        Assert.Equal(2, s.SmallSkew);
        Assert.Equal(2, s.SmallKurtosis);
        Assert.Equal(1, s.BothSmall);
        Assert.Equal(0.02, s.MedianKs, 12);
        Assert.Equal(0.03, s.MaxKs, 12);
        Assert.Equal(0.4, s.MedianAbsSkewness, 12);
        Assert.Equal(0.00886, s.KsCritical, 12);
        Assert.Equal(3, s.AboveKsCritical);
    }

    [Fact]
    public void ToCsv_HasHeaderAndOneRoundTripLinePerFeature()
    {
        FeatureNormalityRow[] rows = [new(0, 0.1, 1.5, -0.25, 3.0, 0.125), new(1, 1.0 / 3.0, 2, 0, 0, 0)];
        string[] lines = FeatureNormality.ToCsv(rows).TrimEnd('\n').Split('\n');
        Assert.Equal("feature,mean,std,skewness,excess_kurtosis,ks_distance", lines[0]);
        Assert.Equal("0,0.1,1.5,-0.25,3,0.125", lines[1]);
        Assert.Equal(1.0 / 3.0, double.Parse(lines[2].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3, lines.Length);
    }

    /// <summary>Box–Muller draws from System.Random (not TorchSharp's global RNG), seeded.</summary>
    static double[] NormalSample(int n, int seed)
    {
        var random = new Random(seed);
        var sample = new double[n];
        for (int i = 0; i < n; i++)
            sample[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return sample;
    }

    static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    /// <summary>erf by its Maclaurin series, exact to double precision for the |x| &lt; 2 the tie test needs.</summary>
    static double Erf(double x)
    {
        double sum = 0, term = x;
        for (int k = 0; k < 60; k++)
        {
            sum += term / (2 * k + 1);
            term *= -x * x / (k + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
