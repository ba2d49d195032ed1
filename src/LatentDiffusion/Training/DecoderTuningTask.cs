using TorchSharp;
using System.Security.Cryptography;
using System.Runtime.InteropServices;
using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Sharpens a trained VAE's decoder with a perceptual term (the feature reconstruction loss of Johnson et al. 2016,
/// eq. 2, with a classifier's feature map in place of VGG's): per image
/// <c>‖x̂ − x‖² + λ·‖φ(clamp(x̂, 0, 1)) − φ(x)‖²</c>, x̂ = decode(μ + σ·ε), φ = <see cref="Classifier.FeatureMap"/>.
/// The squared error alone makes the decoder output the mean of the images a latent could have been — the blur that
/// puts the reconstructions' FID far above Validation's; the perceptual term asks for strokes and textures whose
/// features match instead. The encoder (and its head) stay the base's, frozen and in eval mode, so the latents — and
/// every generator trained on them — are unchanged: a tuned decoder drops into a shipped model set. The classifier is
/// frozen too; use one other than the FID's (another seed), or the FID would be scored by the net it was tuned against.
/// With a decoder width k &gt; 1 the decoder is first made k times wider at the base's function
/// (<see cref="DecoderWidening"/>), so the tuning has more capacity for texture and starts where the base decoder is.
/// </summary>
public sealed class DecoderTuningTask : ITrainingTask<Vae>
{
    readonly string basePath;
    readonly VaeConfig config;
    readonly Classifier classifier;
    readonly double featureWeight;
    readonly Func<Tensor, Tensor> trainBatch;                 // indices (B,) → images (B, C, S, S)
    readonly Func<long, long, Tensor> validationBatch;        // (start, count) → images
    readonly long validationCount;
    readonly int widening;

    /// <param name="basePath">The trained VAE whose decoder is tuned.</param>
    /// <param name="classifierPath">The perceptual classifier, for the images' channels and side.</param>
    /// <param name="featureWeight">λ, ≥ 0 (0: the squared error alone, the base's reconstruction term).</param>
    /// <param name="decoderWidth">k ≥ 1: the tuned decoder's hidden widths are k times the base decoder's (1: the base's shape).</param>
    public DecoderTuningTask(string basePath, string classifierPath, double featureWeight, LabelledImages train, LabelledImages validation, DatasetInfo? data = null, Device? device = null,
        int decoderWidth = 1)
    {
        if (!(featureWeight >= 0) || double.IsInfinity(featureWeight)) throw new ArgumentOutOfRangeException(nameof(featureWeight), featureWeight, "must be a finite number ≥ 0");
        ArgumentOutOfRangeException.ThrowIfLessThan(decoderWidth, 1);
        this.basePath = basePath;
        widening = decoderWidth;
        using (Vae probe = ModelFile.LoadVae(basePath))
        {
            int width = (probe.Config.DecoderWidth ?? 1) * decoderWidth;
            config = probe.Config with
            {
                DecoderWidth = width == 1 ? null : width,
                Tuning = new DecoderTuning
                {
                    BaseSha256 = probe.Config.Tuning?.BaseSha256 ?? ModelWeights.Sha256(basePath),
                    FromSha256 = probe.Config.Tuning is null ? null : ModelWeights.Sha256(basePath),
                    EncoderSha256 = EncoderSha256(probe),
                    ClassifierSha256 = ModelWeights.Sha256(classifierPath), FeatureWeight = featureWeight,
                },
            };
        }
        classifier = ModelFile.LoadClassifier(classifierPath);
        if (device is not null) classifier.to(device);                             // beside the decoder the trainer moves there
        foreach (var p in classifier.parameters()) p.requires_grad_(false);
        if (classifier.Config.Channels != config.Channels || classifier.Config.Resolution != config.Side)
            throw new DataFormatException(classifierPath, $"a classifier of {classifier.Config.Channels}x{classifier.Config.Resolution} px for a VAE of {config.Channels}x{config.Side} px ({basePath})");
        foreach (LabelledImages split in (LabelledImages[])[train, validation])
            if (split.Channels != config.Channels || split.Side != config.Side)
                throw new ArgumentException($"images of {split.Channels}x{split.Side}x{split.Side} for a VAE of {config.Channels}x{config.Side}x{config.Side} ({basePath})");
        this.featureWeight = featureWeight;
        trainBatch = train.Inputs;
        validationBatch = (start, count) => validation.Inputs(start, count, device ?? CPU);
        TrainCount = train.Count;
        validationCount = validation.Count;
        Data = data?.ToJson();
    }

    public string Architecture => nameof(Vae);

    /// <summary>The base's <see cref="VaeConfig"/> with its <see cref="VaeConfig.Tuning"/> set: loads as any VAE, and resumes only the same tuning.</summary>
    public string? Settings => JsonSerializer.Serialize(config);

    public string? Data { get; }

    public long TrainCount { get; }

    /// <summary>The base VAE (its decoder widened when asked), its encoder and head frozen.</summary>
    public Vae CreateModel()
    {
        Vae vae = ModelFile.LoadVae(basePath);
        if (widening > 1)
        {
            using Vae narrow = vae;
            vae = new Vae(config);
            using (no_grad())
            {
                var wide = vae.state_dict();
                foreach (var (name, t) in narrow.state_dict())
                    if (!name.StartsWith("decoder.", StringComparison.Ordinal)) wide[name].copy_(t);
            }
            using var generator = new Generator(0);                                    // δ: fixed, so a resumed run rebuilds the same start
            DecoderWidening.Widen(narrow.Decoder, vae.Decoder, generator);
        }
        foreach (var (name, p) in vae.named_parameters())
            if (!name.StartsWith("decoder.", StringComparison.Ordinal)) p.requires_grad_(false);
        return vae;
    }

    public BatchLoss Loss(Vae model, Tensor indices, Generator generator)
    {
        model.Encoder.eval();                                                         // the base's latents: running statistics, none updated
        Tensor x = trainBatch(indices);                                               // (B, C, S, S)
        (Tensor rec, Tensor feature) = Terms(model, x, generator);                    // (B,), (B,)
        Tensor loss = rec.add(feature, alpha: featureWeight).mean();
        return new BatchLoss(loss, [("train_rec", rec.mean()), ("train_feature", feature.mean())]);
    }

    public ValidationResult Validate(Vae model, int batchSize, Generator generator)
    {
        (double rec, double feature) = PerImageMeans.Of(validationCount, batchSize, (start, count) => Terms(model, validationBatch(start, count), generator));
        return new ValidationResult(rec + featureWeight * feature, [("val_rec", rec), ("val_feature", feature)]);
    }

    /// <summary>Per-image squared error and perceptual distance of one decode of sampled latents.</summary>
    (Tensor Rec, Tensor Feature) Terms(Vae model, Tensor x, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor z;
        using (no_grad()) z = model.Sample(x, generator);                             // (B, C', 4, 4): the base's latents
        Tensor xHat = model.Decode(z);                                                // (B, C, S, S)
        Tensor rec = Vae.ReconstructionLoss(xHat, x);                                 // (B,)
        Tensor target;
        using (no_grad()) target = classifier.FeatureMap(x);                          // (B, 32, 8, 8)
        Tensor feature = classifier.FeatureMap(xHat.clamp(0.0, 1.0)).sub(target).square().sum([1, 2, 3]);   // (B,)
        return (rec.MoveToOuterDisposeScope(), feature.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// SHA-256 of the encoder's state (every encoder and head tensor, parameters and running statistics, in key order,
    /// as little-endian float32): equal for a VAE and its tuned decoders, so it names the latent space they share.
    /// </summary>
    public static string EncoderSha256(Vae vae)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in vae.state_dict().OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (name.StartsWith("decoder.", StringComparison.Ordinal)) continue;
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            using Tensor c = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
            hash.AppendData(MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
