using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// Part 1: cross-entropy of the classifier's logits; validation loss and accuracy on the test set. The images stay
/// bytes (<see cref="LabelledImages"/>) and each batch is made float when drawn: for MNIST the same float32 values as
/// part 1's whole-set conversion, so the same run bit for bit.
/// </summary>
public sealed class ClassifierTask : ITrainingTask<Classifier>, IDisposable
{
    readonly LabelledImages train, validation;
    readonly ClassifierConfig config;
    readonly Device device;

    /// <param name="device">Where batches go (the trainer's device); default CPU.</param>
    public ClassifierTask(MnistSplit train, MnistSplit validation, Device? device = null)
        : this(LabelledImages.FromIdx(train), LabelledImages.FromIdx(validation), ClassifierConfig.Part1, data: null, device) { }

    /// <param name="config">The classifier's shape; it must match the images' channels and side.</param>
    /// <param name="data">What the images are, recorded with the weights (null: nothing recorded).</param>
    public ClassifierTask(LabelledImages train, LabelledImages validation, ClassifierConfig config, DatasetInfo? data, Device? device = null)
    {
        config.Validate();
        foreach (LabelledImages split in (LabelledImages[])[train, validation])
            if (split.Channels != config.Channels || split.Side != config.Resolution)
                throw new ArgumentException($"images of {split.Channels}x{split.Side}x{split.Side} for a classifier of {config.Describe()}");
        if (train.Labels.Concat(validation.Labels).Any(l => l >= config.Classes))
            throw new ArgumentException($"labels outside 0..{config.Classes - 1} for a classifier of {config.Classes} classes");
        this.train = train;
        this.validation = validation;
        this.config = config;
        this.device = device ?? CPU;
        Data = data?.ToJson();
    }

    /// <summary>A task for <paramref name="dataset"/>: a classifier of its channels, side and classes.</summary>
    public static ClassifierTask For(ImageDataset dataset, Device? device = null) =>
        new(dataset.Train, dataset.Test, new ClassifierConfig { Channels = dataset.Channels, Resolution = dataset.Resolution, Classes = dataset.Classes },
            dataset.Info, device);

    /// <summary>Trains the classifier on <paramref name="train"/> with the shared loop; see <see cref="Trainer{TModel}.Train"/>.</summary>
    public static TrainingResult<Classifier> Train(TrainingConfig config, MnistSplit train, MnistSplit validation, string runDirectory,
        bool resume = false, ITrainingObserver? observer = null, CancellationToken cancel = default, Device? device = null, IReadOnlyList<double>? emaSweep = null)
    {
        using var task = new ClassifierTask(train, validation, device);
        return task.Run(config, runDirectory, resume, observer, cancel, device, emaSweep);
    }

    /// <summary>Trains a classifier on <paramref name="dataset"/> (see <see cref="For"/>) with the shared loop.</summary>
    public static TrainingResult<Classifier> Train(TrainingConfig config, ImageDataset dataset, string runDirectory,
        bool resume = false, ITrainingObserver? observer = null, CancellationToken cancel = default, Device? device = null, IReadOnlyList<double>? emaSweep = null)
    {
        using var task = For(dataset, device);
        return task.Run(config, runDirectory, resume, observer, cancel, device, emaSweep);
    }

    TrainingResult<Classifier> Run(TrainingConfig trainingConfig, string runDirectory, bool resume, ITrainingObserver? observer,
        CancellationToken cancel, Device? trainingDevice, IReadOnlyList<double>? emaSweep) =>
        new Trainer<Classifier>(trainingConfig, observer, trainingDevice) { EmaSweep = emaSweep ?? [] }.Train(this, runDirectory, resume, cancel);

    public string Architecture => nameof(Classifier);

    public string? Settings => config.ToSettings();

    public string? Data { get; }

    public long TrainCount => train.Count;

    public Classifier CreateModel() => new(config);

    public BatchLoss Loss(Classifier model, Tensor indices, Generator generator)
    {
        Tensor x = train.Inputs(indices);                        // (B, C, S, S)
        Tensor y = train.Targets(indices);                       // (B,)
        return new BatchLoss(nn.functional.cross_entropy(model.forward(x), y));   // Dropout draws from the global generator
    }

    public ValidationResult Validate(Classifier model, int batchSize, Generator generator)
    {
        EvaluationResult val = ClassifierEvaluation.Evaluate(model, validation, batchSize, device);
        return new ValidationResult(val.Loss, [("val_accuracy", val.Accuracy)]);
    }

    public void Dispose() { }
}
