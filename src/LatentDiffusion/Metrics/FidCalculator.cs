using System.Diagnostics;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>How FID features are computed.</summary>
/// <param name="Features">Feature definition; the series' part 1 uses <see cref="FeatureKind.PreAct"/> (default).</param>
/// <param name="BatchSize">Images per forward pass (default 500): large enough to amortise the per-call overhead,
/// small enough that the first convolution's output (B x 8 x 32 x 32 float32, 16 MB at 500) stays under glibc's
/// 32 MB mmap ceiling and is reused rather than freshly page-faulted each batch (1000 measured ~30% slower).</param>
public sealed record FidConfig(FeatureKind Features = FeatureKind.PreAct, int BatchSize = FidConfig.DefaultBatchSize)
{
    public const int DefaultBatchSize = 500;

    public void Validate() => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize, nameof(BatchSize));
}

/// <summary>One FID value with everything needed to reproduce it.</summary>
/// <param name="CountA">Images on side A, or null for a statistics file that does not record it.</param>
/// <param name="ClassifierSha256">SHA-256 of the classifier weights file the caller gave, else the one the statistics files record.</param>
/// <param name="Seconds">Wall time from reading the sources to the distance, the model already loaded.</param>
/// <param name="Warnings">Caveats on the value (rank-deficient covariance, mismatched provenance).</param>
public sealed record FidResult(
    double Fid, long? CountA, long? CountB, string? ClassifierSha256, FeatureKind Features, double Seconds, IReadOnlyList<string> Warnings)
{
    /// <summary>The first 12 hex digits of the classifier's SHA-256, as results cite it.</summary>
    public string? ClassifierShort => FidCalculator.ShortSha(ClassifierSha256);
}

/// <summary>
/// MNIST-FID (part 1 of the series): the classifier's 128-d features of two image sets, their Gaussian statistics,
/// and the Fréchet distance between them. Images stream through <see cref="Classifier.Features"/> in batches without
/// autograd; only the running statistics
/// (D + D² float64) stay, so the number of images is bounded by the input, not by memory.
/// </summary>
public sealed class FidCalculator
{
    readonly Classifier classifier;
    readonly FidConfig config;
    readonly string? classifierSha256;

    /// <param name="classifierSha256">SHA-256 of the weights file (<see cref="ModelWeights.Sha256"/>), cited in results and saved statistics.</param>
    public FidCalculator(Classifier classifier, FidConfig? config = null, string? classifierSha256 = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        this.config = config ?? new FidConfig();
        this.config.Validate();
        this.classifier = classifier;
        this.classifierSha256 = classifierSha256;
    }

    public FidConfig Config => config;

    /// <summary>"preact" or "flatten", the names the CLI and the saved statistics use.</summary>
    public static string FeatureName(FeatureKind kind) => kind == FeatureKind.Flatten ? "flatten" : "preact";

    /// <summary>Parses <see cref="FeatureName"/>'s output back.</summary>
    public static FeatureKind ParseFeatures(string name) => name.ToLowerInvariant() switch
    {
        "preact" => FeatureKind.PreAct,
        "flatten" => FeatureKind.Flatten,
        _ => throw new ArgumentException($"unknown feature definition '{name}'; use preact or flatten"),
    };

    /// <summary>First 12 hex digits, or null.</summary>
    public static string? ShortSha(string? sha256) => sha256 is null ? null : sha256[..Math.Min(12, sha256.Length)];

    /// <summary>FID between two sources (images or statistics files), with the wall time and any warnings.</summary>
    public FidResult Compute(FidSource a, FidSource b)
    {
        var watch = Stopwatch.StartNew();
        FeatureStatistics statsA = Statistics(a);
        FeatureStatistics statsB = Statistics(b);
        return Evaluate(statsA, a.Path, statsB, b.Path, watch);
    }

    /// <summary>FID between two sets of statistics already at hand; <see cref="FidResult.Seconds"/> covers the distance only.</summary>
    public FidResult Compute(FeatureStatistics a, FeatureStatistics b) => Evaluate(a, null, b, null, Stopwatch.StartNew());

    FidResult Evaluate(FeatureStatistics a, string? pathA, FeatureStatistics b, string? pathB, Stopwatch watch)
    {
        // Two statistics files and no classifier file at hand: the classifier they record is the one the value is of.
        string? sha = classifierSha256 ?? a.Provenance?.ClassifierSha256 ?? b.Provenance?.ClassifierSha256;
        var warnings = Check("A", pathA, a, sha).Concat(Check("B", pathB, b, sha)).ToList();
        double fid = FrechetDistance.Compute(a, b);
        return new FidResult(fid, a.Count, b.Count, sha, config.Features, watch.Elapsed.TotalSeconds, warnings);
    }

    /// <summary>Statistics of a source: loaded from a <c>.npz</c>, or computed from its images.</summary>
    public FeatureStatistics Statistics(FidSource source)
    {
        FeatureStatistics stats = source.Kind switch
        {
            FidSourceKind.Statistics => FeatureStatistics.Load(source.Path),
            FidSourceKind.IdxImages => StatisticsOfIdx(IdxReader.ReadImages(source.Path)),
            _ => StatisticsOfFolder(source.Path),
        };
        if (stats.Dim != Classifier.FeatureDim)
            throw new DataFormatException(source.Path, $"statistics are {stats.Dim}-d; the MNIST classifier's features are {Classifier.FeatureDim}-d");
        return stats;
    }

    /// <summary>Statistics of the images of an IDX file (28x28 get the training padding; 32x32 are used as they are).</summary>
    public FeatureStatistics StatisticsOfIdx(IdxImages images)
    {
        if (images.Rows != images.Cols || (images.Rows != 28 && images.Rows != ImageBatch.Side))
            throw new DataFormatException(images.Path, $"images are {images.Rows}x{images.Cols}; FID needs 28x28 or 32x32");
        RequireTwo(images.Path, images.Count);
        // One batch of bytes at a time (not a tensor of the whole file), so nothing here grows with N.
        int imageBytes = images.Rows * images.Cols;
        int batchSize = Math.Min(config.BatchSize, images.Count);
        var buffer = new byte[batchSize * imageBytes];
        using var running = new RunningStatistics();
        for (int start = 0; start < images.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, images.Count - start);
            images.Pixels.AsSpan(start * imageBytes, count * imageBytes).CopyTo(buffer);
            AccumulatePixels(running, buffer, count, images.Rows);
        }
        return Finish(running);
    }

    /// <summary>Statistics of uint8 pixels (N, 28, 28) or (N, 32, 32), preprocessed batch by batch.</summary>
    public FeatureStatistics StatisticsOfPixels(Tensor pixels)
    {
        if (pixels.dim() != 3) throw new ArgumentException($"expected pixels (N, H, W), got [{string.Join(", ", pixels.shape)}]", nameof(pixels));
        bool padded = pixels.shape[1] == ImageBatch.Side && pixels.shape[2] == ImageBatch.Side;
        using var running = new RunningStatistics();
        long n = pixels.shape[0];
        for (long start = 0; start < n; start += config.BatchSize)
        {
            using var scope = NewDisposeScope();
            Tensor batch = pixels.narrow(0, start, Math.Min(config.BatchSize, n - start));  // (B, H, W)
            Tensor inputs = padded ? Preprocess.ToModelInputUnpadded(batch) : Preprocess.ToModelInput(batch);  // (B, 1, 32, 32)
            Accumulate(running, inputs);
        }
        return Finish(running);
    }

    /// <summary>Statistics of model inputs (N, 1, 32, 32) float32 in [0, 1], e.g. generated samples.</summary>
    public FeatureStatistics StatisticsOfInputs(Tensor inputs)
    {
        if (inputs.dim() != 4) throw new ArgumentException($"expected inputs (N, 1, 32, 32), got [{string.Join(", ", inputs.shape)}]", nameof(inputs));
        using var running = new RunningStatistics();
        long n = inputs.shape[0];
        for (long start = 0; start < n; start += config.BatchSize)
        {
            using var scope = NewDisposeScope();
            Accumulate(running, inputs.narrow(0, start, Math.Min(config.BatchSize, n - start)));
        }
        return Finish(running);
    }

    /// <summary>Statistics of images held as bytes (any dataset's (C, S, S), the classifier's shape), made float one batch at a time.</summary>
    public FeatureStatistics StatisticsOfImages(LabelledImages images)
    {
        using var running = new RunningStatistics();
        for (long start = 0; start < images.Count; start += config.BatchSize)
        {
            using var scope = NewDisposeScope();
            Accumulate(running, images.Inputs(start, Math.Min(config.BatchSize, images.Count - start)));   // (B, C, S, S)
        }
        return Finish(running);
    }

    /// <summary>Statistics of a folder of images, decoded one batch at a time.</summary>
    public FeatureStatistics StatisticsOfFolder(string directory)
    {
        using var running = new RunningStatistics();
        foreach (ImageBatch batch in ImageFolder.ReadBatches(directory, config.BatchSize))
            AccumulatePixels(running, batch.Pixels, batch.Count, ImageBatch.Side);
        RequireTwo(directory, running.Count);
        return Finish(running);
    }

    /// <summary>
    /// The first <paramref name="count"/> square images of <paramref name="buffer"/> (uint8, <paramref name="side"/>
    /// 28 or 32) → model inputs (28x28 get the training padding) → features → running statistics.
    /// </summary>
    void AccumulatePixels(RunningStatistics running, byte[] buffer, int count, int side)
    {
        using var scope = NewDisposeScope();
        Tensor all = tensor(buffer, [buffer.Length / (side * side), side, side], ScalarType.Byte);   // (capacity, H, W)
        Tensor pixels = all.narrow(0, 0, count);                                                      // (B, H, W)
        Tensor inputs = side == ImageBatch.Side ? Preprocess.ToModelInputUnpadded(pixels) : Preprocess.ToModelInput(pixels);  // (B, 1, 32, 32)
        Accumulate(running, inputs);
    }

    /// <summary>Features of one batch (B, 1, 32, 32) → running statistics, without autograd.</summary>
    void Accumulate(RunningStatistics running, Tensor inputs)
    {
        using var noGrad = no_grad();
        using Tensor features = classifier.Features(inputs, config.Features);   // (B, 128)
        running.Add(features);
    }

    FeatureStatistics Finish(RunningStatistics running)
    {
        if (running.Count < 2) throw new ArgumentException($"{running.Count} image(s): FID needs at least 2");
        return running.ToStatistics(classifierSha256, FeatureName(config.Features));
    }

    static void RequireTwo(string path, long count)
    {
        if (count < 2) throw new DataFormatException(path, $"{count} image(s): FID needs at least 2 to estimate a covariance");
    }

    /// <summary>Warnings on one side: too few images for a full-rank covariance, or statistics made differently.</summary>
    IEnumerable<string> Check(string side, string? path, FeatureStatistics stats, string? runClassifier)
    {
        string name = path is null ? side : $"{side} ({path})";
        if (stats.SampleSizeWarning(name) is { } few) yield return few;
        if (stats.Provenance is null)
        {
            yield return $"{name}: statistics without provenance (classifier and feature definition unknown); make sure they match this run";
            yield break;
        }
        if (stats.Provenance.ClassifierSha256 is string sha && runClassifier is not null && sha != runClassifier)
            yield return $"{name}: statistics were computed with classifier {ShortSha(sha)}, this comparison uses {ShortSha(runClassifier)}; the FID is meaningless";
        if (stats.Provenance.Features is string features && features != FeatureName(config.Features))
            yield return $"{name}: statistics use '{features}' features, this run '{FeatureName(config.Features)}'; the FID is meaningless";
    }
}
