using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Part 2's VAE loss: per image, the summed squared error of decode(μ + σ·ε) plus the weighted KL to N(0, I), averaged
/// over the batch (the post: weight 1). ε comes from the run's generator. Validation runs the same loss on the test
/// set (eval mode, fresh ε), as the post's; logged as val_loss with its parts val_rec and val_kl, and the epoch's
/// train_rec and train_kl.
/// </summary>
public sealed class VaeTask : ITrainingTask<Vae>
{
    readonly VaeConfig config;
    readonly Func<Tensor, Tensor> trainBatch;                 // indices (B,) → images (B, C, S, S)
    readonly Func<long, long, Tensor> validationBatch;        // (start, count) → images
    readonly long validationCount;

    /// <param name="train">Training images (N, C, S, S) in [0, 1] on the training device; the task does not own them.</param>
    public VaeTask(Tensor train, Tensor validation, VaeConfig config)
    {
        this.config = config;
        trainBatch = indices => train.index_select(0, indices);
        validationBatch = (start, count) => validation.narrow(0, start, count);
        TrainCount = train.shape[0];
        validationCount = validation.shape[0];
    }

    /// <summary>
    /// A VAE task on images held as bytes, each batch made float on <paramref name="device"/> when drawn (for MNIST the same
    /// values as the tensors of the other constructor). <paramref name="data"/> is recorded with the weights.
    /// </summary>
    public VaeTask(LabelledImages train, LabelledImages validation, VaeConfig config, DatasetInfo? data = null, Device? device = null)
    {
        config.Validate();
        foreach (LabelledImages split in (LabelledImages[])[train, validation])
            if (split.Channels != config.Channels || split.Side != config.Side)
                throw new ArgumentException($"images of {split.Channels}x{split.Side}x{split.Side} for a VAE of {config.Channels}x{config.Side}x{config.Side}");
        this.config = config;
        device ??= CPU;
        trainBatch = train.Inputs;
        validationBatch = (start, count) => validation.Inputs(start, count, device);
        TrainCount = train.Count;
        validationCount = validation.Count;
        Data = data?.ToJson();
    }

    public string Architecture => nameof(Vae);

    public string? Settings => JsonSerializer.Serialize(config);

    public string? Data { get; }

    public long TrainCount { get; }

    public Vae CreateModel() => new(config);

    public BatchLoss Loss(Vae model, Tensor indices, Generator generator)
    {
        Tensor x = trainBatch(indices);                                               // (B, C, S, S)
        (Tensor rec, Tensor kl) = Terms(model, x, generator);                         // (B,), (B,)
        Tensor loss = rec.add(kl, alpha: config.KlWeight).mean();
        return new BatchLoss(loss, [("train_rec", rec.mean()), ("train_kl", kl.mean())]);
    }

    public ValidationResult Validate(Vae model, int batchSize, Generator generator)
    {
        (double rec, double kl) = PerImageMeans.Of(validationCount, batchSize, (start, count) => Terms(model, validationBatch(start, count), generator));
        return new ValidationResult(rec + config.KlWeight * kl, [("val_rec", rec), ("val_kl", kl)]);
    }

    /// <summary>Per-image reconstruction error and KL of one sampled pass.</summary>
    static (Tensor Rec, Tensor Kl) Terms(Vae model, Tensor x, Generator generator)
    {
        long[] latent = [x.shape[0], .. model.LatentShape];
        Tensor noise = randn(latent, dtype: x.dtype, device: x.device, generator: generator);   // the post's s
        VaePass pass = model.Forward(x, noise);
        return (Vae.ReconstructionLoss(pass.Reconstruction, x), model.Kl(pass.Mu, pass.Sigma));
    }
}
