using System.Text.Json;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Part 2's VAE loss: per image, the summed squared error of decode(μ + σ·ε) plus the weighted KL to N(0, I), averaged
/// over the batch (the post: weight 1). ε comes from the run's generator. Validation runs the same loss on the test
/// set (eval mode, fresh ε), as the post's; logged as val_loss with its parts val_rec and val_kl, and the epoch's
/// train_rec and train_kl.
/// </summary>
public sealed class VaeTask(Tensor train, Tensor validation, VaeConfig config) : ITrainingTask<Vae>
{
    /// <summary>Training images (N, 1, 32, 32) in [0, 1]; the task does not own them.</summary>
    public Tensor Train { get; } = train;

    public Tensor ValidationImages { get; } = validation;

    public string Architecture => nameof(Vae);

    public string? Settings => JsonSerializer.Serialize(config);

    public long TrainCount => Train.shape[0];

    public Vae CreateModel() => new(config);

    public BatchLoss Loss(Vae model, Tensor indices, Generator generator)
    {
        Tensor x = Train.index_select(0, indices);                                   // (B, 1, 32, 32)
        (Tensor rec, Tensor kl) = Terms(model, x, generator);                         // (B,), (B,)
        Tensor loss = rec.add(kl, alpha: config.KlWeight).mean();
        return new BatchLoss(loss, [("train_rec", rec.mean()), ("train_kl", kl.mean())]);
    }

    public ValidationResult Validate(Vae model, int batchSize, Generator generator)
    {
        double rec = 0, kl = 0;
        long n = ValidationImages.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            (Tensor r, Tensor k) = Terms(model, ValidationImages.narrow(0, start, Math.Min(batchSize, n - start)), generator);
            rec += r.to_type(ScalarType.Float64).sum().item<double>();
            kl += k.to_type(ScalarType.Float64).sum().item<double>();
        }
        rec /= n;
        kl /= n;
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
