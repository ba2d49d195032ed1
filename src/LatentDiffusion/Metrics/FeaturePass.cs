using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// One image set after one pass through the classifier: every image's 128-d features (float64), its pixels and the
/// features' Gaussian statistics — what FID, the k-NN manifold metrics and the memorisation check all read.
/// </summary>
/// <param name="Features">(N, 128) float64, row i the features of image i.</param>
/// <param name="Pixels">(N, 32, 32) uint8 row-major: the images as the classifier saw them (28x28 zero-padded by 2); empty
/// for another dataset's shape (C, S, S), whose metrics here are the features' only.</param>
/// <param name="Statistics">μ and Σ of the features, accumulated in the same batches as <see cref="FidCalculator"/>, so the FID is the same bits.</param>
public sealed record ImageFeatures(string Name, FeatureMatrix Features, byte[] Pixels, FeatureStatistics Statistics)
{
    public int Count => Features.Rows;

    /// <summary>Bytes of one image in <see cref="Pixels"/>.</summary>
    public const int ImageBytes = ImageBatch.ImageBytes;

    /// <summary>Whether the pixels were kept (gray 32x32 images: MNIST's layout).</summary>
    public bool HasPixels => Pixels.Length == (long)Count * ImageBytes;

    /// <summary>The pixels as a (N, 1024) uint8 tensor, for distances in pixel space.</summary>
    public Tensor PixelRows() => HasPixels ? tensor(Pixels, [Count, ImageBytes], ScalarType.Byte)
        : throw new InvalidOperationException($"{Name}: pixels are kept for gray 32x32 images only");

    /// <summary>Images <paramref name="indices"/> as model inputs (K, 1, 32, 32) float32 in [0, 1], e.g. for a figure.</summary>
    public Tensor Images(IReadOnlyList<int> indices)
    {
        var picked = new byte[indices.Count * ImageBytes];
        for (int i = 0; i < indices.Count; i++) Pixels.AsSpan(indices[i] * ImageBytes, ImageBytes).CopyTo(picked.AsSpan(i * ImageBytes));
        using Tensor raw = tensor(picked, [indices.Count, ImageBatch.Side, ImageBatch.Side], ScalarType.Byte);
        return Preprocess.ToModelInputUnpadded(raw);
    }
}

/// <summary>
/// Reads an image source (IDX file or image folder) batch by batch through the classifier once and keeps what every
/// metric needs (<see cref="ImageFeatures"/>): N·128 float64 and N·1024 bytes, about 2 KiB an image (120 MiB for the
/// 60k training images). The batches and their preprocessing are <see cref="FidCalculator"/>'s.
/// </summary>
public sealed class FeaturePass(Classifier classifier, FidConfig? config = null, string? classifierSha256 = null)
{
    readonly Classifier classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
    readonly FidConfig config = Checked(config ?? new FidConfig());

    public FidConfig Config => config;

    /// <summary>The features of <paramref name="source"/>; a statistics file has none (<see cref="DataFormatException"/>).</summary>
    public ImageFeatures Run(FidSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Kind switch
        {
            FidSourceKind.IdxImages => OfIdx(IdxReader.ReadImages(source.Path)),
            FidSourceKind.ImageFolder => OfBatches(source.Path, ImageFolder.ReadBatches(source.Path, config.BatchSize).Select(b => (b.Pixels, b.Count, ImageBatch.Side))),
            _ => throw new DataFormatException(source.Path, "holds statistics (mu, sigma) only; these metrics need the images: pass an IDX file or an image folder"),
        };
    }

    /// <summary>The features of an IDX file's images (28x28 or 32x32).</summary>
    public ImageFeatures OfIdx(IdxImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rows != images.Cols || (images.Rows != 28 && images.Rows != ImageBatch.Side))
            throw new DataFormatException(images.Path, $"images are {images.Rows}x{images.Cols}; the classifier needs 28x28 or 32x32");
        return OfBatches(images.Path, IdxBatches(images));
    }

    /// <summary>
    /// The features of model inputs (N, 1, 32, 32) float32 in [0, 1], e.g. generated digits: the features (and so the
    /// statistics, <see cref="FidCalculator.StatisticsOfInputs"/>'s bits) of the values as they are; the kept pixels are
    /// round(255·x).
    /// </summary>
    public ImageFeatures OfInputs(Tensor inputs, string name)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ClassifierConfig shape = classifier.Config;
        if (inputs.dim() != 4 || inputs.shape[1] != shape.Channels || inputs.shape[2] != shape.Resolution || inputs.shape[3] != shape.Resolution)
            throw new ArgumentException($"expected inputs (N, {shape.Channels}, {shape.Resolution}, {shape.Resolution}), got [{string.Join(", ", inputs.shape)}]", nameof(inputs));
        bool keepPixels = shape.Channels == 1 && shape.Resolution == ImageBatch.Side;
        var features = new List<double>();
        var pixels = new List<byte>();
        using var running = new RunningStatistics();
        using var noGrad = no_grad();
        long n = inputs.shape[0];
        for (long start = 0; start < n; start += config.BatchSize)
        {
            using var scope = NewDisposeScope();
            Tensor batch = inputs.narrow(0, start, Math.Min(config.BatchSize, n - start));   // (B, C, S, S)
            Add(running, features, classifier.Features(batch, config.Features));
            if (keepPixels) pixels.AddRange(batch.mul(255.0).round_().clamp_(0, 255).to_type(ScalarType.Byte).contiguous().data<byte>().ToArray());
        }
        return Finish(name, running, features, pixels);
    }

    /// <summary>
    /// The features of a dataset split held as bytes (the classifier's (C, S, S)), made float one batch at a time as
    /// <see cref="FidCalculator.StatisticsOfImages"/> does; pixels kept as for <see cref="OfInputs"/>.
    /// </summary>
    public ImageFeatures OfImages(LabelledImages images, string name)
    {
        ArgumentNullException.ThrowIfNull(images);
        ClassifierConfig shape = classifier.Config;
        if (images.Channels != shape.Channels || images.Side != shape.Resolution)
            throw new DataFormatException(name, $"images are {images.Channels}x{images.Side}x{images.Side}; the classifier reads {shape.Describe()}");
        bool keepPixels = shape.Channels == 1 && shape.Resolution == ImageBatch.Side;
        var features = new List<double>();
        var pixels = new List<byte>();
        using var running = new RunningStatistics();
        using var noGrad = no_grad();
        for (long start = 0; start < images.Count; start += config.BatchSize)
        {
            using var scope = NewDisposeScope();
            int count = (int)Math.Min(config.BatchSize, images.Count - start);
            Add(running, features, classifier.Features(images.Inputs(start, count), config.Features));   // (B, 128)
            if (keepPixels)
                for (int i = 0; i < count; i++) pixels.AddRange(images.Image((int)start + i).ToArray());
        }
        return Finish(name, running, features, pixels);
    }

    IEnumerable<(byte[] Pixels, int Count, int Side)> IdxBatches(IdxImages images)
    {
        int imageBytes = images.Rows * images.Cols;
        int batchSize = Math.Max(1, Math.Min(config.BatchSize, images.Count));
        var buffer = new byte[batchSize * imageBytes];
        for (int start = 0; start < images.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, images.Count - start);
            images.Pixels.AsSpan(start * imageBytes, count * imageBytes).CopyTo(buffer);
            yield return (buffer, count, images.Rows);
        }
    }

    ImageFeatures OfBatches(string name, IEnumerable<(byte[] Pixels, int Count, int Side)> batches)
    {
        var features = new List<double>();
        var pixels = new List<byte>();
        using var running = new RunningStatistics();
        using var noGrad = no_grad();
        foreach (var (buffer, count, side) in batches)
        {
            using var scope = NewDisposeScope();
            Tensor all = tensor(buffer, [buffer.Length / (side * side), side, side], ScalarType.Byte);   // (capacity, H, W)
            Tensor batch = all.narrow(0, 0, count);                                                       // (B, H, W)
            Tensor inputs = side == ImageBatch.Side ? Preprocess.ToModelInputUnpadded(batch) : Preprocess.ToModelInput(batch);  // (B, 1, 32, 32)
            Add(running, features, classifier.Features(inputs, config.Features));                       // (B, 128)
            Tensor padded = side == ImageBatch.Side ? batch
                : nn.functional.pad(batch, [Preprocess.Padding, Preprocess.Padding, Preprocess.Padding, Preprocess.Padding]);  // (B, 32, 32)
            pixels.AddRange(padded.contiguous().data<byte>().ToArray());
        }
        return Finish(name, running, features, pixels);
    }

    /// <summary>One batch's features (B, 128) → the running statistics and the kept float64 rows.</summary>
    static void Add(RunningStatistics running, List<double> kept, Tensor features)
    {
        running.Add(features);
        kept.AddRange(features.to_type(ScalarType.Float64).contiguous().data<double>().ToArray());
    }

    ImageFeatures Finish(string name, RunningStatistics running, List<double> features, List<byte> pixels)
    {
        int n = (int)running.Count;
        if (n < 2) throw new DataFormatException(name, $"{n} image(s): the metrics need at least 2");
        var matrix = new FeatureMatrix(features.ToArray(), n, Classifier.FeatureDim, name);
        return new ImageFeatures(name, matrix, pixels.ToArray(), running.ToStatistics(classifierSha256, FidCalculator.FeatureName(config.Features)));
    }

    static FidConfig Checked(FidConfig config)
    {
        config.Validate();
        return config;
    }
}
