using static TorchSharp.torch;

namespace LatentDiffusion.Reports;

/// <summary>
/// Data projected on its leading linear discriminants.
/// </summary>
/// <param name="Components">Coordinate <c>k</c> of sample <c>i</c> is <c>Components[k][i]</c>, discriminants in decreasing order.</param>
/// <param name="ExplainedVarianceRatio">Share of the between-class variance along each returned discriminant (sklearn's
/// <c>explained_variance_ratio_</c>).</param>
/// <param name="Rank">Rank of the within-class scatter (features minus the directions with no within-class variance).</param>
public sealed record LdaProjection(IReadOnlyList<double[]> Components, IReadOnlyList<double> ExplainedVarianceRatio, int Rank)
{
    public int Count => Components[0].Length;

    /// <summary>
    /// Share of the samples whose nearest class centroid in the projection (Euclidean, over all components) is their
    /// own class: how well the projected classes separate.
    /// </summary>
    public double NearestCentroidAccuracy(IReadOnlyList<int> labels)
    {
        if (labels.Count != Count) throw new ArgumentException($"{labels.Count} labels for {Count} samples", nameof(labels));
        int[] classes = labels.Distinct().Order().ToArray();
        double[][] centroids = classes.Select(c =>
        {
            int[] members = Enumerable.Range(0, Count).Where(i => labels[i] == c).ToArray();
            return Components.Select(axis => members.Average(i => axis[i])).ToArray();
        }).ToArray();
        int correct = 0;
        for (int i = 0; i < Count; i++)
        {
            int best = 0;
            double bestDistance = double.PositiveInfinity;
            for (int c = 0; c < classes.Length; c++)
            {
                double distance = 0;
                for (int k = 0; k < Components.Count; k++) distance += Math.Pow(Components[k][i] - centroids[c][k], 2);
                if (distance < bestDistance) (best, bestDistance) = (c, distance);
            }
            if (classes[best] == labels[i]) correct++;
        }
        return (double)correct / Count;
    }
}

/// <summary>
/// Linear discriminant analysis (Fisher 1936; Hastie, Tibshirani and Friedman, <i>Elements of Statistical Learning</i>
/// §4.3.3): the directions w maximising the between-class variance wᵀS_b w over the within-class variance wᵀS_w w, the
/// generalised eigenvectors of S_b w = λ S_w w. The post projects its 64-d latents on the first two with
/// <c>LinearDiscriminantAnalysis(n_components=2).fit_transform(z, y)</c>; this is scikit-learn's default "svd" solver
/// (<c>_solve_svd</c>) in float64:
/// <list type="number">
/// <item>centre every sample on its class mean, scale each feature by its within-class standard deviation (0 → 1), times
/// √(1/(n − K)); the SVD of that (n, D) matrix, U S Vᵀ, whitens the pooled within-class covariance: W = (V / std)ᵀ / S,
/// keeping the singular values above <c>tolerance</c>;</item>
/// <item>the class means, centred on the overall (prior-weighted) mean and weighted by √(n_k / (K − 1)), mapped through
/// W: their SVD orders the discriminants by between-class variance.</item>
/// </list>
/// The projection is (x − x̄) W V₂: its within-class covariance (pooled, 1/(n − K)) is the identity. Each axis is signed
/// so that the first class's mean lies on its negative side, which makes the result independent of the SVD's signs and
/// of any invertible linear map of the features (up to rounding).
/// </summary>
public static class Lda
{
    /// <summary>scikit-learn's default <c>tol</c>: singular values of the scaled within-class data at or below it are dropped.</summary>
    public const double DefaultTolerance = 1e-4;

    /// <summary>
    /// Fits LDA to <paramref name="x"/> (N, …), flattened to (N, D), with the class of every row in
    /// <paramref name="labels"/>, and returns the data on the first <paramref name="components"/> discriminants.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More components than min(K − 1, D).</exception>
    /// <exception cref="InvalidOperationException">The data has fewer independent discriminant directions than asked for.</exception>
    public static LdaProjection FitTransform(Tensor x, IReadOnlyList<int> labels, int components = 2, double tolerance = DefaultTolerance)
    {
        long n = x.shape[0];
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} samples", nameof(labels));
        int[] classes = labels.Distinct().Order().ToArray();
        int k = classes.Length;
        if (k < 2) throw new ArgumentException($"LDA needs at least two classes, got {k}", nameof(labels));
        if (n <= k) throw new ArgumentException($"LDA needs more samples ({n}) than classes ({k})", nameof(x));
        using var scope = NewDisposeScope();
        Tensor data = x.reshape(n, -1).to_type(ScalarType.Float64).cpu();                 // (N, D)
        long d = data.shape[1];
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(components);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(components, (int)Math.Min(k - 1, d));

        var classIndex = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i);
        Tensor index = tensor(labels.Select(l => classIndex[l]).ToArray());               // (N,)
        Tensor oneHot = nn.functional.one_hot(index, k).to_type(ScalarType.Float64);      // (N, K)
        Tensor counts = oneHot.sum([0]);                                                   // (K,)
        Tensor means = oneHot.t().matmul(data).div_(counts.unsqueeze(1));                 // (K, D)
        Tensor priors = counts / n;                                                        // (K,)
        Tensor overall = priors.matmul(means);                                             // (D,) = sklearn's xbar_

        // 1) Whiten the pooled within-class covariance.
        Tensor within = data - oneHot.matmul(means);                                       // (N, D), each row minus its class mean
        Tensor std = within.std([0], unbiased: false);                                     // (D,)
        std = where(std.eq(0), ones_like(std), std);
        Tensor scaled = within.div(std).mul_(Math.Sqrt(1.0 / (n - k)));
        var (_, s1, vh1) = linalg.svd(scaled, fullMatrices: false);                        // s1 (min(N, D),), vh1 (·, D)
        int rank = (int)s1.gt(tolerance).sum().item<long>();
        if (rank < components)
            throw new InvalidOperationException($"the within-class scatter has rank {rank}: fewer than the {components} discriminants asked for");
        Tensor whiten = vh1.narrow(0, 0, rank).div(std).t().div(s1.narrow(0, 0, rank));  // (D, rank)

        // 2) Order the whitened directions by between-class variance.
        Tensor weights = counts.mul(1.0 / (k - 1)).sqrt().unsqueeze(1);                   // (K, 1) √(n·prior_k / (K − 1))
        Tensor between = weights.mul(means - overall).matmul(whiten);                      // (K, rank)
        var (_, s2, vh2) = linalg.svd(between, fullMatrices: false);                       // s2 (min(K, rank),), vh2 (·, rank)
        double[] sv = s2.data<double>().ToArray();
        int discriminants = sv.Count(v => v > tolerance * sv[0]);
        if (discriminants < components)
            throw new InvalidOperationException($"the class means span {discriminants} discriminant direction(s): fewer than the {components} asked for");
        double total = sv.Take(discriminants).Sum(v => v * v);
        Tensor scalings = whiten.matmul(vh2.narrow(0, 0, components).t());                // (D, components)

        Tensor projected = (data - overall).matmul(scalings);                              // (N, components)
        Tensor firstMean = (means[0] - overall).matmul(scalings);                          // (components,)
        Tensor signs = where(firstMean.gt(0), full_like(firstMean, -1.0), ones_like(firstMean));
        projected = projected.mul_(signs).t().contiguous();                               // (components, N)
        double[] flat = projected.data<double>().ToArray();
        var columns = Enumerable.Range(0, components).Select(c => flat.AsSpan(c * (int)n, (int)n).ToArray()).ToArray();
        return new LdaProjection(columns, sv.Take(components).Select(v => v * v / total).ToArray(), rank);
    }

    /// <summary>LDA of <paramref name="x"/> with byte labels, such as MNIST's.</summary>
    public static LdaProjection FitTransform(Tensor x, IReadOnlyList<byte> labels, int components = 2, double tolerance = DefaultTolerance) =>
        FitTransform(x, labels.Select(l => (int)l).ToArray(), components, tolerance);
}
