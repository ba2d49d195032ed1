using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Part 3's loss: ε-prediction MSE (<see cref="Ddpm.PLosses"/>) on latents scaled by
/// <see cref="DiffusionConfig.LatentScale"/>, t uniform in 1..T and ε ~ N(0, I), both from the run's generator; or, for
/// <see cref="DiffusionObjective.AlphaDeblending"/>, the follow-up's x1 − x0 MSE (<see cref="AlphaDeblending.PLosses"/>)
/// with x1 ~ N(0, I) and α ~ U[0, 1) (the post's <c>do_step</c>, in its order of draws).
/// Validation averages the batch losses over the validation latents with fresh draws, as the post's.
/// </summary>
public sealed class DiffusionTask : ITrainingTask<UNet>, IDisposable
{
    readonly DiffusionConfig config;
    readonly NoiseSchedule schedule;

    /// <param name="train">Training latents (N, C, 4, 4), unscaled; the task does not own them.</param>
    /// <param name="trainLabels">For a class-conditional UNet: the labels (N,) int64 of <paramref name="train"/>, likewise for validation.</param>
    /// <param name="data">The images' dataset, recorded with the weights (class names, hash); null records nothing.</param>
    public DiffusionTask(Tensor train, Tensor validation, DiffusionConfig config, Tensor? trainLabels = null, Tensor? validationLabels = null, Data.DatasetInfo? data = null)
    {
        Data = data?.ToJson();
        bool conditional = config.UNet.Classes > 0;
        if (conditional != (trainLabels is not null) || conditional != (validationLabels is not null))
            throw new ArgumentException(conditional ? "a class-conditional UNet needs training and validation labels" : "an unconditional UNet takes no labels");
        if (trainLabels is not null && trainLabels.shape[0] != train.shape[0]) throw new ArgumentException($"{trainLabels.shape[0]} labels for {train.shape[0]} latents");
        if (validationLabels is not null && validationLabels.shape[0] != validation.shape[0]) throw new ArgumentException($"{validationLabels.shape[0]} labels for {validation.shape[0]} latents");
        TrainLabels = trainLabels;
        ValidationLabels = validationLabels;
        config.Validate();
        if (train.dim() != 4 || train.shape[1] != config.UNet.LatentChannels)
            throw new ArgumentException($"latents [{string.Join(", ", train.shape)}] do not fit a UNet for {config.UNet.LatentChannels} channels");
        Train = train;
        ValidationLatents = validation;
        this.config = config;
        schedule = config.CreateSchedule();
    }

    public Tensor Train { get; }

    public Tensor ValidationLatents { get; }

    public Tensor? TrainLabels { get; }

    public Tensor? ValidationLabels { get; }

    public string Architecture => nameof(UNet);

    public string? Settings => JsonSerializer.Serialize(config);

    public string? Data { get; }

    public long TrainCount => Train.shape[0];

    public UNet CreateModel() => new(config.UNet);

    public BatchLoss Loss(UNet model, Tensor indices, Generator generator) =>
        new(Step(model, Train.index_select(0, indices), TrainLabels?.index_select(0, indices), generator));

    public ValidationResult Validate(UNet model, int batchSize, Generator generator)
    {
        double sum = 0;
        int batches = 0;
        long n = ValidationLatents.shape[0];
        for (long start = 0; start < n; start += batchSize, batches++)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(batchSize, n - start);
            sum += Step(model, ValidationLatents.narrow(0, start, size), ValidationLabels?.narrow(0, start, size), generator).item<float>();
        }
        return new ValidationResult(sum / batches, []);
    }

    Tensor Step(UNet model, Tensor latents, Tensor? labels, Generator generator)
    {
        Tensor x0 = config.LatentScale == 1.0 ? latents : latents.mul(config.LatentScale);
        Func<Tensor, Tensor, Tensor> network = model.forward;
        if (labels is not null)
        {
            Tensor y = Guidance.DropLabels(labels, config.LabelDropout, model.NoLabel, generator);   // drawn first: unconditional runs keep their draws
            network = (x, t) => model.forward(x, t, y);
        }
        if (config.Objective == DiffusionObjective.AlphaDeblending)
        {
            Tensor x1 = randn(x0.shape, dtype: x0.dtype, device: x0.device, generator: generator);
            Tensor alpha = rand([x0.shape[0]], dtype: x0.dtype, device: x0.device, generator: generator);
            return AlphaDeblending.PLosses(network, x0, x1, alpha, config.AlphaScale);
        }
        Tensor t = randint(1, schedule.Steps + 1, [x0.shape[0]], dtype: ScalarType.Int64, device: x0.device, generator: generator);
        Tensor noise = randn(x0.shape, dtype: x0.dtype, device: x0.device, generator: generator);
        return Ddpm.PLosses(network, schedule, x0, t, noise);
    }

    public void Dispose() => schedule.Dispose();
}
