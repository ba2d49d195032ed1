using System.Diagnostics;
using LatentDiffusion.Data;
using LatentDiffusion.Evaluation;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>Progress of a run, for a front end's progress bar and log.</summary>
public interface ITrainingObserver
{
    /// <summary>The model is built (and restored, when resuming); called once before the first epoch.</summary>
    void TrainingStarted(Classifier model, int firstEpoch) { }
    void EpochStarted(int epoch, int epochs, int batches) { }
    void BatchFinished(int epoch, int batch) { }
    void EpochLogged(EpochLog log) { }
    void CheckpointWritten(int epoch, string path) { }
}

/// <summary>What a finished run leaves: the model (in eval mode), its history and where files were written.</summary>
public sealed record TrainingResult(Classifier Model, IReadOnlyList<EpochLog> History, string RunDirectory, double TrainingSeconds);

/// <summary>
/// The blog's training loop: cross-entropy on logits, Adam, a fresh random permutation of the training set each
/// epoch, Dropout active only while training. The whole training set is one contiguous tensor and batches are
/// gathered with index_select; the only host round trip per epoch is reading the summed loss.
/// A run directory holds <c>config.json</c>, the history, <see cref="Checkpoint.FileName"/> and, at the end,
/// <c>model.safetensors</c>.
/// </summary>
public sealed class ClassifierTrainer(ClassifierTrainingConfig config, ITrainingObserver? observer = null)
{
    public const string ModelFileName = "model.safetensors";
    readonly ITrainingObserver observer = observer ?? new NullObserver();

    /// <summary>
    /// Trains on <paramref name="train"/> and validates on <paramref name="validation"/>, writing to
    /// <paramref name="runDirectory"/>. With <paramref name="resume"/>, continues from the directory's checkpoint
    /// (same seed, batch size and learning rate required; <see cref="ClassifierTrainingConfig.Epochs"/> may grow).
    /// </summary>
    public TrainingResult Train(MnistSplit train, MnistSplit validation, string runDirectory, bool resume = false, CancellationToken cancel = default)
    {
        config.Validate();
        Directory.CreateDirectory(runDirectory);
        AtomicFile.CleanLeftovers(runDirectory);
        string checkpointPath = Path.Combine(runDirectory, Checkpoint.FileName);

        torch.manual_seed(config.Seed);                       // weight init and Dropout draw from the global generator
        var model = new Classifier();
        using var optimizer = optim.Adam(model.parameters(), lr: config.LearningRate);
        using var permutations = new Generator((ulong)config.Seed);
        var history = new List<EpochLog>();
        int startEpoch = 1;
        double seconds = 0;
        string? lastCheckpoint = null;

        if (resume && File.Exists(checkpointPath))
        {
            Checkpoint.State saved = Checkpoint.ReadState(checkpointPath);
            RequireSameRun(saved.Config, checkpointPath);
            Checkpoint.Load(checkpointPath, model, optimizer, permutations);
            history = saved.History;
            startEpoch = saved.Epoch + 1;
            seconds = saved.TrainingSeconds;
            lastCheckpoint = checkpointPath;
        }
        observer.TrainingStarted(model, startEpoch);
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "config.json"),
            System.Text.Json.JsonSerializer.Serialize(config, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        using Tensor xTrain = train.ToInputs();               // (N, 1, 32, 32)
        using Tensor yTrain = train.ToTargets();              // (N,)
        using Tensor xVal = validation.ToInputs();
        using Tensor yVal = validation.ToTargets();
        long n = xTrain.shape[0];
        int batches = (int)((n + config.BatchSize - 1) / config.BatchSize);

        for (int epoch = startEpoch; epoch <= config.Epochs; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            observer.EpochStarted(epoch, config.Epochs, batches);
            model.train();
            using Tensor lossSum = zeros(1, ScalarType.Float64);
            using (Tensor order = randperm(n, generator: permutations))
            {
                for (int b = 0; b < batches; b++)
                {
                    using var scope = NewDisposeScope();
                    long start = (long)b * config.BatchSize;
                    Tensor index = order.narrow(0, start, Math.Min(config.BatchSize, n - start));
                    Tensor x = xTrain.index_select(0, index);
                    Tensor y = yTrain.index_select(0, index);
                    optimizer.zero_grad();
                    Tensor loss = nn.functional.cross_entropy(model.forward(x), y);
                    loss.backward();
                    optimizer.step();
                    lossSum.add_(loss.detach());
                    observer.BatchFinished(epoch, b + 1);
                }
            }
            double trainLoss = lossSum.item<double>() / batches;   // the blog's batch-averaged train loss
            seconds += clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(trainLoss)) throw new TrainingDivergedException(epoch, trainLoss, lastCheckpoint);

            bool last = epoch == config.Epochs;
            if (epoch % config.LogEvery == 0 || last)
            {
                EvaluationResult val = ClassifierEvaluation.Evaluate(model, xVal, yVal, config.EvalBatchSize);
                var log = new EpochLog(epoch, trainLoss, val.Loss, val.Accuracy, seconds);
                history.Add(log);
                TrainingHistory.Save(runDirectory, history);
                observer.EpochLogged(log);
            }
            if (epoch % config.CheckpointEvery == 0 || last)
            {
                Checkpoint.Save(checkpointPath, new Checkpoint.State(epoch, config, history, seconds), model, optimizer, permutations);
                lastCheckpoint = checkpointPath;
                observer.CheckpointWritten(epoch, checkpointPath);
            }
        }

        model.eval();
        ModelWeights.Save(model, Path.Combine(runDirectory, ModelFileName), new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["architecture"] = nameof(Classifier),
            ["epochs"] = config.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["seed"] = config.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        return new TrainingResult(model, history, runDirectory, seconds);
    }

    void RequireSameRun(ClassifierTrainingConfig saved, string path)
    {
        if (saved.Seed != config.Seed || saved.BatchSize != config.BatchSize || saved.LearningRate != config.LearningRate)
            throw new DataFormatException(path,
                $"checkpoint was made with seed {saved.Seed}, batch size {saved.BatchSize}, lr {saved.LearningRate}; " +
                $"this run asks for seed {config.Seed}, batch size {config.BatchSize}, lr {config.LearningRate}. " +
                "Use the same settings to resume, or another --out to start afresh");
        if (saved.Epochs > config.Epochs)
            throw new DataFormatException(path, $"checkpoint was made for {saved.Epochs} epochs; --epochs {config.Epochs} is fewer");
    }

    sealed class NullObserver : ITrainingObserver;
}
