using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>Part 1: cross-entropy of the classifier's logits; validation loss and accuracy on the test set.</summary>
public sealed class ClassifierTask : ITrainingTask<Classifier>, IDisposable
{
    readonly Tensor xTrain, yTrain, xVal, yVal;

    /// <param name="device">Where the data live (the trainer's device); default CPU.</param>
    public ClassifierTask(MnistSplit train, MnistSplit validation, Device? device = null)
    {
        xTrain = OnDevice(train.ToInputs(), device);       // (N, 1, 32, 32)
        yTrain = OnDevice(train.ToTargets(), device);      // (N,)
        xVal = OnDevice(validation.ToInputs(), device);
        yVal = OnDevice(validation.ToTargets(), device);
    }

    static Tensor OnDevice(Tensor t, Device? device) => device is null ? t : TorchDevices.MoveTo(t, device);

    /// <summary>Trains the classifier on <paramref name="train"/> with the shared loop; see <see cref="Trainer{TModel}.Train"/>.</summary>
    public static TrainingResult<Classifier> Train(TrainingConfig config, MnistSplit train, MnistSplit validation, string runDirectory,
        bool resume = false, ITrainingObserver? observer = null, CancellationToken cancel = default, Device? device = null, IReadOnlyList<double>? emaSweep = null)
    {
        using var task = new ClassifierTask(train, validation, device);
        return new Trainer<Classifier>(config, observer, device) { EmaSweep = emaSweep ?? [] }.Train(task, runDirectory, resume, cancel);
    }

    public string Architecture => nameof(Classifier);

    public string? Settings => null;

    public long TrainCount => xTrain.shape[0];

    public Classifier CreateModel() => new();

    public BatchLoss Loss(Classifier model, Tensor indices, Generator generator)
    {
        Tensor x = xTrain.index_select(0, indices);
        Tensor y = yTrain.index_select(0, indices);
        return new BatchLoss(nn.functional.cross_entropy(model.forward(x), y));   // Dropout draws from the global generator
    }

    public ValidationResult Validate(Classifier model, int batchSize, Generator generator)
    {
        EvaluationResult val = ClassifierEvaluation.Evaluate(model, xVal, yVal, batchSize);
        return new ValidationResult(val.Loss, [("val_accuracy", val.Accuracy)]);
    }

    public void Dispose()
    {
        xTrain.Dispose(); yTrain.Dispose(); xVal.Dispose(); yVal.Dispose();
    }
}
