using System.Diagnostics;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>One row of the baseline table.</summary>
/// <param name="Name">"Validation" or "Random".</param>
/// <param name="Fid">Our MNIST-FID.</param>
/// <param name="RatioToRandom">Fid divided by the Random row's FID (1 for Random itself).</param>
/// <param name="BlogFid">The value the blog reports with its own classifier weights, for comparison.</param>
public sealed record FidBaselineRow(string Name, double Fid, double RatioToRandom, double? BlogFid)
{
    /// <summary>The blog's ratio to its Random row.</summary>
    public double? BlogRatioToRandom => BlogFid / FidBaselines.BlogRandom;
}

/// <summary>The two reference points that give an MNIST-FID value its scale.</summary>
/// <param name="RandomCount">Number of noise images (as many as the test set).</param>
/// <param name="Seconds">Wall time, the model already loaded.</param>
public sealed record FidBaselineResult(
    IReadOnlyList<FidBaselineRow> Rows, FeatureKind Features, long Seed, int TrainCount, int TestCount, int RandomCount, double Seconds);

/// <summary>
/// Part 1's baseline table. <b>Validation</b>: the test set against the training set, the FID of real digits
/// against real digits, i.e. the floor a perfect generator reaches. <b>Random</b>: Gaussian noise with the training
/// set's per-pixel mean and standard deviation (per pixel position over the 60k images, on the /255 values),
/// clipped to [0, 1], as many images as the test set, against the test set: the ceiling of a generator that
/// learned only pixel statistics. Every later FID is read against these two, as a ratio to Random.
/// </summary>
public static class FidBaselines
{
    /// <summary>The blog's Random FID (its own classifier weights).</summary>
    public const double BlogRandom = BlogPart1.FidRandom;

    /// <summary>The blog's Validation FID (its own classifier weights); ratio 0.30 / 48.43 = 0.0062.</summary>
    public const double BlogValidation = BlogPart1.FidValidation;

    /// <summary>Computes both rows. <paramref name="seed"/> seeds a private generator for the noise (the global RNG is untouched).</summary>
    public static FidBaselineResult Compute(Classifier classifier, MnistData data, FeatureKind kind = FeatureKind.PreAct,
        int batchSize = FidConfig.DefaultBatchSize, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(data);
        var watch = Stopwatch.StartNew();
        var calculator = new FidCalculator(classifier, new FidConfig(kind, batchSize));
        FeatureStatistics train = calculator.StatisticsOfIdx(data.Train.Images);
        FeatureStatistics test = calculator.StatisticsOfIdx(data.Test.Images);
        FeatureStatistics random;
        using (Tensor noise = RandomImages(data.Train.Images, data.Test.Count, seed))
            random = calculator.StatisticsOfInputs(noise);

        double validationFid = FrechetDistance.Compute(test, train);
        double randomFid = FrechetDistance.Compute(random, test);
        FidBaselineRow[] rows =
        [
            new("Validation", validationFid, validationFid / randomFid, BlogValidation),
            new("Random", randomFid, 1.0, BlogRandom),
        ];
        return new FidBaselineResult(rows, kind, seed, data.Train.Count, data.Test.Count, data.Test.Count, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// <paramref name="count"/> noise images (count, 1, 32, 32) float32: x = clip(μ + σ·z, 0, 1) per pixel position,
    /// z ~ N(0, 1) from a generator seeded with <paramref name="seed"/>, μ and σ (unbiased) over <paramref name="reference"/>'s
    /// /255 pixels; then the training padding (where μ = σ = 0 anyway).
    /// </summary>
    public static Tensor RandomImages(IdxImages reference, int count, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        using var scope = NewDisposeScope();
        var (mean, std) = PixelMeanStd(reference);                                                              // (H, W) each
        using var generator = new Generator(unchecked((ulong)seed));
        Tensor z = randn([count, reference.Rows, reference.Cols], ScalarType.Float32, generator: generator);   // (N, H, W)
        Tensor images = z.mul_(std).add_(mean).clamp_(0.0, 1.0);
        Tensor padded = nn.functional.pad(images.unsqueeze(1), [Preprocess.Padding, Preprocess.Padding, Preprocess.Padding, Preprocess.Padding]);
        return padded.contiguous().MoveToOuterDisposeScope();                                                   // (N, 1, 32, 32)
    }

    /// <summary>
    /// Part 1's noise for any dataset held as bytes: <paramref name="count"/> images (count, C, S, S) float32, x = clip(μ + σ·z, 0, 1)
    /// per pixel position and channel, μ and σ (unbiased) over <paramref name="reference"/>'s /255 pixels, z from a
    /// generator seeded with <paramref name="seed"/>.
    /// </summary>
    public static Tensor RandomImages(LabelledImages reference, int count, long seed)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (reference.Count < 2) throw new ArgumentException($"{reference.Count} image(s); a per-pixel std needs at least 2", nameof(reference));
        using var scope = NewDisposeScope();
        long[] shape = [reference.Channels, reference.Side, reference.Side];
        Tensor sum = zeros(shape, ScalarType.Float64);
        Tensor sumSquares = zeros(shape, ScalarType.Float64);
        const int chunk = 10_000;
        for (long start = 0; start < reference.Count; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            Tensor x = reference.Inputs(start, Math.Min(chunk, reference.Count - start)).to_type(ScalarType.Float64);   // (B, C, S, S)
            sum.add_(x.sum([0]));
            sumSquares.add_(x.square().sum([0]));
        }
        long n = reference.Count;
        Tensor mean = (sum / n).to_type(ScalarType.Float32);
        Tensor std = (sumSquares - sum.square() / n).div_(n - 1).clamp_min_(0.0).sqrt_().to_type(ScalarType.Float32);
        using var generator = new Generator(unchecked((ulong)seed));
        Tensor z = randn([count, .. shape], ScalarType.Float32, generator: generator);   // (N, C, S, S)
        return z.mul_(std).add_(mean).clamp_(0.0, 1.0).MoveToOuterDisposeScope();
    }

    /// <summary>Per-pixel mean and unbiased std (H, W) float32 of the images /255, summed in float64 one chunk at a time.</summary>
    static (Tensor Mean, Tensor Std) PixelMeanStd(IdxImages images)
    {
        if (images.Count < 2) throw new ArgumentException($"{images.Path}: {images.Count} image(s); a per-pixel std needs at least 2");
        using var scope = NewDisposeScope();
        using Tensor pixels = tensor(images.Pixels, [images.Count, images.Rows, images.Cols], ScalarType.Byte);
        Tensor sum = zeros([images.Rows, images.Cols], ScalarType.Float64);
        Tensor sumSquares = zeros([images.Rows, images.Cols], ScalarType.Float64);
        const int chunk = 10_000;
        for (long start = 0; start < images.Count; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            Tensor x = pixels.narrow(0, start, Math.Min(chunk, images.Count - start)).to_type(ScalarType.Float64).div_(255.0);
            sum.add_(x.sum([0]));
            sumSquares.add_(x.square().sum([0]));
        }
        // Values lie in [0, 1], so Σx² − (Σx)²/N loses no meaningful precision in float64 here.
        long n = images.Count;
        Tensor mean = sum / n;
        Tensor variance = (sumSquares - sum.square() / n).div_(n - 1).clamp_min_(0.0);
        Tensor std = variance.sqrt();
        return (mean.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), std.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }
}
