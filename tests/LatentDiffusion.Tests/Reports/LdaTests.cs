using System.Text.Json;
using LatentDiffusion.Reports;
using LatentDiffusion.Tests.Interop;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Reports;

[Collection("Torch")]
public class LdaTests
{
    /// <summary>
    /// Ten Gaussian classes in 64-d whose means sit on a circle (radius 10) in a random plane, with unit within-class
    /// noise in that plane and noise of std 20 in the 62 other directions: the two leading principal components are
    /// noise, the two discriminants are the plane. Returns (N, 64) float64 and the labels.
    /// </summary>
    static (Tensor X, int[] Labels) Clusters(int perClass, long seed)
    {
        using var generator = new Generator((ulong)seed);
        int n = 10 * perClass;
        int[] labels = Enumerable.Range(0, n).Select(i => i % 10).ToArray();
        using var scope = NewDisposeScope();
        Tensor angle = tensor(labels.Select(l => 2 * Math.PI * l / 10).ToArray());
        Tensor noise = randn([n, 64], dtype: ScalarType.Float64, generator: generator);
        noise.narrow(1, 2, 62).mul_(20.0);
        Tensor plane = zeros([n, 64], dtype: ScalarType.Float64);
        plane.select(1, 0).copy_(angle.cos().mul(10.0));
        plane.select(1, 1).copy_(angle.sin().mul(10.0));
        var (rotation, _) = linalg.qr(randn([64, 64], dtype: ScalarType.Float64, generator: generator));   // a random orthogonal matrix
        return ((plane + noise).matmul(rotation).MoveToOuterDisposeScope(), labels);
    }

    [Fact]
    public void FitTransform_GaussianClustersIn64D_SeparatesTheClassesIn2D()
    {
        var (x, labels) = Clusters(perClass: 100, seed: 1);
        using (x)
        {
            LdaProjection p = Lda.FitTransform(x, labels);
            Assert.Equal(2, p.Components.Count);
            Assert.Equal(1000, p.Count);
            Assert.Equal(64, p.Rank);
            Assert.True(p.ExplainedVarianceRatio[0] >= p.ExplainedVarianceRatio[1]);
            Assert.InRange(p.ExplainedVarianceRatio.Sum(), 0.95, 1.0 + 1e-12);   // the means span a plane: two axes carry almost all of it

            double accuracy = NearestCentroidAccuracy(p, labels);
            Assert.True(accuracy > 0.98, $"nearest-centroid accuracy in the LDA plane {accuracy:P1}");
            Assert.Equal(accuracy, p.NearestCentroidAccuracy(labels), 12);
        }
    }

    [Fact]
    public void FitTransform_WithinClassCovarianceOfTheProjection_IsTheIdentity()
    {
        var (x, labels) = Clusters(perClass: 50, seed: 2);
        using (x)
        {
            LdaProjection p = Lda.FitTransform(x, labels);
            int n = p.Count, k = 10;
            double[,] pooled = new double[2, 2];
            for (int c = 0; c < k; c++)
            {
                int[] members = Enumerable.Range(0, n).Where(i => labels[i] == c).ToArray();
                double m0 = members.Average(i => p.Components[0][i]), m1 = members.Average(i => p.Components[1][i]);
                foreach (int i in members)
                {
                    double d0 = p.Components[0][i] - m0, d1 = p.Components[1][i] - m1;
                    pooled[0, 0] += d0 * d0; pooled[0, 1] += d0 * d1; pooled[1, 1] += d1 * d1;
                }
            }
            Assert.Equal(1.0, pooled[0, 0] / (n - k), 1e-9);
            Assert.Equal(1.0, pooled[1, 1] / (n - k), 1e-9);
            Assert.Equal(0.0, pooled[0, 1] / (n - k), 1e-9);
            Assert.Equal(0.0, p.Components[0].Average(), 1e-9);   // centred on the overall mean
        }
    }

    [Fact]
    public void FitTransform_InvertibleAffineMapOfTheFeatures_GivesTheSameProjection()
    {
        var (x, labels) = Clusters(perClass: 40, seed: 3);
        using var generator = new Generator(4);
        using Tensor a = randn([64, 64], dtype: ScalarType.Float64, generator: generator).add_(eye(64, dtype: ScalarType.Float64).mul_(8.0));
        using Tensor b = randn([64], dtype: ScalarType.Float64, generator: generator).mul_(100.0);
        using Tensor mapped = x.matmul(a).add_(b);
        LdaProjection original = Lda.FitTransform(x, labels), transformed = Lda.FitTransform(mapped, labels);
        x.Dispose();
        for (int k = 0; k < 2; k++)
        {
            double scale = original.Components[k].Max(Math.Abs);
            double worst = original.Components[k].Zip(transformed.Components[k], (u, v) => Math.Abs(u - v)).Max();
            Assert.True(worst < 1e-8 * scale, $"axis {k}: max difference {worst:E2} (values up to {scale:F2})");
        }
    }

    /// <summary>
    /// Two classes in 2-D, {(0,0), (2,0), (1,1), (1,−1)} and the same shifted by 4 along x. The pooled within-class
    /// covariance is diag(4, 4) / (8 − 2) = (2/3)·I and the means differ along x only, so the one discriminant is x,
    /// centred on the overall mean 3 and scaled to unit within-class variance: (x − 3)·√(3/2), negative for class 0.
    /// </summary>
    [Fact]
    public void FitTransform_TwoClassesByHand_IsTheCentredScaledFisherDirection()
    {
        double[,] points = { { 0, 0 }, { 2, 0 }, { 1, 1 }, { 1, -1 }, { 4, 0 }, { 6, 0 }, { 5, 1 }, { 5, -1 } };
        int[] labels = [0, 0, 0, 0, 1, 1, 1, 1];
        using Tensor x = tensor(points);
        LdaProjection p = Lda.FitTransform(x, labels, components: 1);
        double s = Math.Sqrt(1.5);
        double[] expected = [-3 * s, -s, -2 * s, -2 * s, s, 3 * s, 2 * s, 2 * s];
        Assert.Single(p.Components);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], p.Components[0][i], 1e-12);
        Assert.Equal(1.0, p.ExplainedVarianceRatio[0], 1e-12);
    }

    [Fact]
    public void FitTransform_MoreComponentsThanClassesMinusOne_Throws()
    {
        using Tensor x = tensor(new double[,] { { 0, 0 }, { 1, 0 }, { 3, 1 }, { 4, 1 } });
        Assert.Throws<ArgumentOutOfRangeException>(() => Lda.FitTransform(x, [0, 0, 1, 1], components: 2));
    }

    [Fact]
    public void FitTransform_ByteLabels_MatchIntLabels()
    {
        var (x, labels) = Clusters(perClass: 20, seed: 5);
        using (x)
        {
            LdaProjection fromInts = Lda.FitTransform(x, labels);
            LdaProjection fromBytes = Lda.FitTransform(x, labels.Select(l => (byte)l).ToArray());
            Assert.Equal(fromInts.Components[0], fromBytes.Components[0]);
            Assert.Equal(fromInts.Components[1], fromBytes.Components[1]);
        }
    }

    static readonly Lazy<string?> SklearnUnavailable = new(() =>
    {
        try
        {
            var (code, _, stderr) = PythonTwin.RunPython(["-c", "import sklearn"], timeoutSeconds: 120);
            return code == 0 ? null : $"{PythonTwin.Python} cannot import sklearn ({PythonTwin.LastLine(stderr)})";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"no {PythonTwin.Python}";
        }
    });

    /// <summary>The post's call, <c>LinearDiscriminantAnalysis(n_components=2).fit_transform</c>, agrees up to the sign of each axis.</summary>
    [SkippableFact]
    public void FitTransform_MatchesScikitLearn()
    {
        Skip.If(SklearnUnavailable.Value is not null, SklearnUnavailable.Value);
        var (x, labels) = Clusters(perClass: 30, seed: 6);
        double[] flat;
        using (x) flat = x.contiguous().data<double>().ToArray();
        LdaProjection ours;
        using (Tensor copy = tensor(flat, [300, 64])) ours = Lda.FitTransform(copy, labels);

        using var dir = new TempDirectory();
        string input = dir.File("lda.json");
        File.WriteAllText(input, JsonSerializer.Serialize(new { x = flat.Chunk(64).ToArray(), y = labels }));
        const string script = """
            import json, sys
            import numpy as np
            from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
            d = json.load(open(sys.argv[1]))
            z = LinearDiscriminantAnalysis(n_components=2).fit_transform(np.array(d['x']), np.array(d['y']))
            print(json.dumps(z.T.tolist()))
            """;
        var (code, stdout, stderr) = PythonTwin.RunPython(["-c", script, input]);
        Assert.True(code == 0, $"sklearn failed (exit {code}):\n{stderr}");
        double[][] theirs = JsonSerializer.Deserialize<double[][]>(stdout)!;
        for (int k = 0; k < 2; k++)
        {
            double sign = Math.Sign(ours.Components[k].Zip(theirs[k], (u, v) => u * v).Sum());
            double scale = theirs[k].Max(Math.Abs);
            double worst = ours.Components[k].Zip(theirs[k], (u, v) => Math.Abs(u - sign * v)).Max();
            Assert.True(worst < 1e-8 * scale, $"axis {k}: max |ours − sklearn| {worst:E2} (values up to {scale:F2})");
        }
    }

    static double NearestCentroidAccuracy(LdaProjection p, IReadOnlyList<int> labels)
    {
        int[] classes = labels.Distinct().Order().ToArray();
        var centroids = classes.Select(c =>
        {
            int[] members = Enumerable.Range(0, p.Count).Where(i => labels[i] == c).ToArray();
            return (Class: c, X: members.Average(i => p.Components[0][i]), Y: members.Average(i => p.Components[1][i]));
        }).ToArray();
        int correct = 0;
        for (int i = 0; i < p.Count; i++)
        {
            double px = p.Components[0][i], py = p.Components[1][i];
            int nearest = centroids.MinBy(c => (c.X - px) * (c.X - px) + (c.Y - py) * (c.Y - py)).Class;
            if (nearest == labels[i]) correct++;
        }
        return (double)correct / p.Count;
    }
}
