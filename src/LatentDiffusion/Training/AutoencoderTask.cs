using System.Text.Json;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>Part 2's autoencoder loss: per image, the summed squared error of the reconstruction, averaged over the batch; validated the same way on the test set.</summary>
public sealed class AutoencoderTask(Tensor train, Tensor validation, AutoencoderConfig config) : ITrainingTask<ConvAutoencoder>
{
    public Tensor Train { get; } = train;

    public Tensor ValidationImages { get; } = validation;

    public string Architecture => nameof(ConvAutoencoder);

    public string? Settings => JsonSerializer.Serialize(config);

    public long TrainCount => Train.shape[0];

    public ConvAutoencoder CreateModel() => new(config);

    public BatchLoss Loss(ConvAutoencoder model, Tensor indices, Generator generator)
    {
        Tensor x = Train.index_select(0, indices);
        return new BatchLoss(Vae.ReconstructionLoss(model.forward(x), x).mean());
    }

    public ValidationResult Validate(ConvAutoencoder model, int batchSize, Generator generator)
    {
        double sse = 0;
        long n = ValidationImages.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            Tensor x = ValidationImages.narrow(0, start, Math.Min(batchSize, n - start));
            sse += Vae.ReconstructionLoss(model.forward(x), x).to_type(ScalarType.Float64).sum().item<double>();
        }
        return new ValidationResult(sse / n, []);
    }
}
