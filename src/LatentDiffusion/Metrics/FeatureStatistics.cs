using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentDiffusion.IO;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>Where a set of statistics came from; stored beside <c>mu</c> and <c>sigma</c> in our <c>.npz</c> files.</summary>
/// <param name="Count">Number of images (feature vectors) the statistics summarise.</param>
/// <param name="ClassifierSha256">SHA-256 of the classifier weights file, when known.</param>
/// <param name="Features">Feature definition (<c>preact</c> or <c>flatten</c>), when known.</param>
public sealed record StatisticsProvenance(
    [property: JsonPropertyName("n")] long Count,
    [property: JsonPropertyName("classifier_sha256")] string? ClassifierSha256,
    [property: JsonPropertyName("features")] string? Features);

/// <summary>
/// The Gaussian summary of a set of feature vectors that the Fréchet distance compares: the mean μ (D,) and the
/// unbiased covariance Σ (D, D) (divisor N − 1, as <c>numpy.cov</c>), both float64. Saved as a pytorch-fid style
/// <c>.npz</c> with arrays <c>mu</c> and <c>sigma</c>, plus a <c>provenance.json</c> entry that numpy ignores.
/// </summary>
public sealed class FeatureStatistics
{
    /// <summary>Name of the zip entry holding <see cref="StatisticsProvenance"/> as JSON.</summary>
    public const string ProvenanceEntry = "provenance.json";

    /// <summary>Largest feature dimension accepted from a file (pytorch-fid's Inception features are 2048-d).</summary>
    public const int MaxDim = 4096;

    /// <summary>
    /// How far a covariance read from a file may be from symmetric positive semi-definite, relative to its largest
    /// magnitude: asymmetry |Σᵢⱼ − Σⱼᵢ| and negative eigenvalues up to 1e-6 of it pass (rounding, a float32 origin);
    /// anything beyond is not a covariance and gives no meaningful FID.
    /// </summary>
    public const double CovarianceTolerance = 1e-6;

    static readonly Dictionary<string, int> Ranks = new() { ["mu"] = 1, ["sigma"] = 2 };

    public FeatureStatistics(double[] mu, double[] sigma, StatisticsProvenance? provenance = null)
    {
        ArgumentNullException.ThrowIfNull(mu);
        ArgumentNullException.ThrowIfNull(sigma);
        if (mu.Length == 0) throw new ArgumentException("the mean is empty", nameof(mu));
        if (sigma.LongLength != (long)mu.Length * mu.Length)
            throw new ArgumentException($"sigma holds {sigma.LongLength} values; a {mu.Length}-d covariance needs {mu.Length * mu.Length}", nameof(sigma));
        Mu = mu;
        Sigma = sigma;
        Provenance = provenance;
    }

    /// <summary>Mean, (D,).</summary>
    public double[] Mu { get; }

    /// <summary>Covariance, (D, D) row-major.</summary>
    public double[] Sigma { get; }

    /// <summary>Number of vectors, classifier and feature definition, when known (files from elsewhere lack them).</summary>
    public StatisticsProvenance? Provenance { get; }

    /// <summary>Feature dimension D.</summary>
    public int Dim => Mu.Length;

    /// <summary>Number of vectors summarised, or null when unknown (a pytorch-fid file).</summary>
    public long? Count => Provenance?.Count;

    /// <summary>Covariance as a (D, D) float64 tensor.</summary>
    public Tensor SigmaTensor() => tensor(Sigma, [Dim, Dim], ScalarType.Float64);

    /// <summary>Mean as a (D,) float64 tensor.</summary>
    public Tensor MuTensor() => tensor(Mu, [Dim], ScalarType.Float64);

    /// <summary>
    /// The two-pass reference: mean, then Σ = (X − μ)ᵀ(X − μ) / (N − 1), for features (N, D) already in memory.
    /// <see cref="RunningStatistics"/> gives the same numbers streaming.
    /// </summary>
    public static FeatureStatistics FromFeatures(Tensor features)
    {
        if (features.dim() != 2) throw new ArgumentException($"expected features (N, D), got [{string.Join(", ", features.shape)}]", nameof(features));
        long n = features.shape[0];
        if (n < 2) throw new ArgumentException($"{n} feature vector(s): a covariance needs at least 2", nameof(features));
        using var scope = NewDisposeScope();
        Tensor x = features.to_type(ScalarType.Float64);
        Tensor mu = x.mean([0]);                                   // (D,)
        Tensor centered = x - mu;                                  // (N, D)
        Tensor product = centered.t().matmul(centered);            // (D, D)
        Tensor sigma = (product + product.t()).div_(2.0 * (n - 1)); // symmetric to the last bit
        return new FeatureStatistics(mu.data<double>().ToArray(), sigma.contiguous().data<double>().ToArray(), new StatisticsProvenance(n, null, null));
    }

    /// <summary>
    /// Why <paramref name="sigma"/> (D, D, row-major) is not a covariance matrix — not symmetric, or with an eigenvalue
    /// below zero — beyond <see cref="CovarianceTolerance"/>; null when it is one.
    /// </summary>
    public static string? CovarianceProblem(double[] sigma, int dim)
    {
        ArgumentNullException.ThrowIfNull(sigma);
        double scale = sigma.Max(Math.Abs);
        if (scale == 0) return null;                                        // all zeros: a degenerate but valid covariance
        double asymmetry = 0;
        for (int i = 0; i < dim; i++)
            for (int j = i + 1; j < dim; j++)
                asymmetry = Math.Max(asymmetry, Math.Abs(sigma[i * dim + j] - sigma[j * dim + i]));
        if (asymmetry > CovarianceTolerance * scale)
            return string.Create(CultureInfo.InvariantCulture,
                $"'sigma' is not symmetric (entries differ from their transpose by up to {asymmetry:G3}, {asymmetry / scale:G2} of its largest entry): not a covariance matrix");
        using var scope = NewDisposeScope();
        Tensor s = tensor(sigma, [dim, dim], ScalarType.Float64);
        Tensor eigenvalues = linalg.eigvalsh((s + s.t()).div_(2));           // ascending
        double smallest = eigenvalues[0].item<double>(), largest = eigenvalues.abs().max().item<double>();
        if (smallest < -CovarianceTolerance * largest)
            return string.Create(CultureInfo.InvariantCulture,
                $"'sigma' is not positive semi-definite (eigenvalue {smallest:G4}; the largest in magnitude is {largest:G4}): not a covariance matrix");
        return null;
    }

    /// <summary>
    /// A warning, naming the statistics <paramref name="name"/>, when they summarise too few vectors for their
    /// dimension (N ≤ D; null otherwise or when N is unknown): the covariance is then rank-deficient, and FID's
    /// estimate, biased upward at any finite N (the bias falls roughly like 1/N; Chong and Forsyth 2020), is far from
    /// its large-N value — comparable only with FIDs of the same N.
    /// </summary>
    public string? SampleSizeWarning(string name)
    {
        if (Count is not long n || n > Dim) return null;
        return $"{name}: only {n} images for {Dim}-d features: the covariance is rank-deficient (rank ≤ {n - 1} < {Dim}) and the FID " +
               $"is biased upward for small N (the bias shrinks like 1/N); compare it only with FIDs from the same N, or use more than {Dim} images";
    }

    /// <summary>Writes <c>mu</c>, <c>sigma</c> and the provenance, atomically.</summary>
    public void Save(string path)
    {
        var arrays = new Dictionary<string, NpyArray>
        {
            ["mu"] = NpyArray.Vector(Mu),
            ["sigma"] = new NpyArray([Dim, Dim], Sigma),
        };
        var texts = Provenance is null ? null : new Dictionary<string, string> { [ProvenanceEntry] = JsonSerializer.Serialize(Provenance) };
        Npz.Save(path, arrays, texts);
    }

    /// <summary>
    /// Reads a statistics <c>.npz</c> (ours or pytorch-fid's): <c>mu</c> (D,) and <c>sigma</c> (D, D) float64, finite.
    /// </summary>
    public static FeatureStatistics Load(string path)
    {
        var (arrays, texts) = Npz.Load(path, Ranks, [ProvenanceEntry]);
        NpyArray mu = arrays["mu"], sigma = arrays["sigma"];
        long d = mu.Shape[0];
        if (d < 1 || d > MaxDim) throw new DataFormatException(path, $"'mu' has {d} entries; expected 1 to {MaxDim}");
        if (sigma.Shape[0] != d || sigma.Shape[1] != d)
            throw new DataFormatException(path, $"'sigma' has shape ({sigma.Shape[0]}, {sigma.Shape[1]}) but 'mu' has {d} entries; expected ({d}, {d})");
        if (!mu.Data.All(double.IsFinite)) throw new DataFormatException(path, "'mu' contains NaN or infinite values");
        if (!sigma.Data.All(double.IsFinite)) throw new DataFormatException(path, "'sigma' contains NaN or infinite values");
        if (CovarianceProblem(sigma.Data, (int)d) is { } problem) throw new DataFormatException(path, problem);
        StatisticsProvenance? provenance = null;
        if (texts[ProvenanceEntry] is string json)
        {
            try { provenance = JsonSerializer.Deserialize<StatisticsProvenance>(json); }
            catch (JsonException e) { throw new DataFormatException(path, $"unreadable {ProvenanceEntry}: {e.Message}", e); }
        }
        return new FeatureStatistics(mu.Data, sigma.Data, provenance);
    }
}
