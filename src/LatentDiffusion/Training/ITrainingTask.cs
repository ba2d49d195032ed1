using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>A batch's loss (scalar, with its graph) and optional named parts (scalars, e.g. reconstruction and KL) to log as epoch means.</summary>
public sealed record BatchLoss(Tensor Loss, IReadOnlyList<(string Name, Tensor Value)>? Parts = null);

/// <summary>A validation pass: the loss comparable to the training loss, and other named metrics.</summary>
public sealed record ValidationResult(double Loss, IReadOnlyList<(string Name, double Value)> Metrics);

/// <summary>
/// What a model contributes to the shared <see cref="Trainer{TModel}"/>: how to build it, its loss on a batch of
/// training examples and its validation. The loop owns everything else — seeding, permutations, the optimizer and its
/// schedule, train/eval mode and no_grad around validation, checkpoints, history, the NaN stop.
/// </summary>
public interface ITrainingTask<TModel> where TModel : nn.Module
{
    /// <summary>Recorded in the weights' metadata and in checkpoints; a checkpoint of another architecture does not resume.</summary>
    string Architecture { get; }

    /// <summary>The model's and loss's settings as JSON (null if none); recorded like <see cref="Architecture"/> and required equal on resume.</summary>
    string? Settings { get; }

    /// <summary>
    /// The data trained on (<see cref="Data.DatasetInfo"/> as JSON), recorded in the weights' metadata and config.json;
    /// null when the task was given bare tensors. Not part of the resume check: the model's shape is in <see cref="Settings"/>.
    /// </summary>
    string? Data => null;

    /// <summary>Number of training examples; the loop permutes 0..N-1 each epoch.</summary>
    long TrainCount { get; }

    /// <summary>A freshly initialised model; the loop has seeded the global generator just before.</summary>
    TModel CreateModel();

    /// <summary>
    /// The loss of the examples at <paramref name="indices"/> (int64) in train mode, with gradients. Every random draw
    /// comes from <paramref name="generator"/> (checkpointed with the run), so resumed runs continue bit for bit.
    /// </summary>
    BatchLoss Loss(TModel model, Tensor indices, Generator generator);

    /// <summary>Validation; the loop has put the model in eval mode under no_grad. Draws come from <paramref name="generator"/>, seeded per epoch.</summary>
    ValidationResult Validate(TModel model, int batchSize, Generator generator);
}
