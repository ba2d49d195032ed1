using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LatentDiffusion.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>Progress of a run, for a front end's progress bar and log. Implement only what you need.</summary>
public interface ITrainingObserver
{
    /// <summary>The model is built (and restored, when resuming); called once before the first epoch.</summary>
    void TrainingStarted(nn.Module model, int firstEpoch) { }
    void EpochStarted(int epoch, int epochs, int batches) { }
    void BatchFinished(int epoch, int batch) { }
    void EpochLogged(EpochLog log) { }
    void CheckpointWritten(int epoch, string path) { }
}

/// <summary>What a finished run leaves: the model (in eval mode, on the CPU), its history and where files were written.</summary>
public sealed record TrainingResult<TModel>(TModel Model, IReadOnlyList<EpochLog> History, string RunDirectory, double TrainingSeconds)
    : IDisposable where TModel : nn.Module
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// The posts' training loop, one for every model: Adam, a fresh random permutation of the training set each epoch,
/// the task's loss per batch, the mean batch loss and a validation pass (eval mode, no_grad) every
/// <see cref="TrainingConfig.LogEvery"/> epochs. A run directory holds <c>config.json</c>, the history,
/// <see cref="Checkpoint.FileName"/> and, at the end, <see cref="ModelFileName"/>. Resuming continues bit for bit:
/// the checkpoint holds the model, Adam's state, the global generator (weight init, Dropout) and the run's generator
/// (permutations and every draw of the loss). A non-finite epoch loss stops the run and keeps the last good checkpoint.
/// A stop request (<c>cancel</c>) is honoured between batches: the batch in progress finishes, a checkpoint is written
/// (mid-epoch, see <see cref="PartialEpoch"/>) and <see cref="TrainingStoppedException"/> is thrown; resuming from it
/// gives the same weights as a run that was never stopped. The run directory is locked for the whole run (<see cref="RunLock"/>).
/// Everything runs on one <paramref name="device"/> (default CPU): the model is built on the CPU (the same initial
/// weights everywhere) and moved there, the run's generator lives there, and the task's data must be there too.
/// </summary>
public sealed class Trainer<TModel>(TrainingConfig config, ITrainingObserver? observer = null, Device? device = null) where TModel : nn.Module
{
    readonly Device device = device ?? CPU;
    public const string ModelFileName = RunDirectory.ModelFileName;
    readonly ITrainingObserver observer = observer ?? new NullObserver();

    /// <summary>
    /// Further EMA decays averaged alongside the run, to choose <see cref="TrainingConfig.EmaDecay"/> by measurement:
    /// each average is updated after every step like the main one, kept in the checkpoint, and saved at the end as
    /// <see cref="RunDirectory.SweepModelFileName"/>; none of them is validated or changes the training. Default: none.
    /// </summary>
    public IReadOnlyList<double> EmaSweep { get; init; } = [];

    /// <summary>
    /// Trains <paramref name="task"/>'s model in <paramref name="runDirectory"/>. With <paramref name="resume"/>, continues
    /// from the directory's checkpoint (same architecture, settings and trajectory-shaping config required). When
    /// <paramref name="cancel"/> is cancelled, stops after the current batch (see the class summary).
    /// </summary>
    public TrainingResult<TModel> Train(ITrainingTask<TModel> task, string runDirectory, bool resume = false, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        config.Validate();
        using RunLock runLock = RunLock.Acquire(runDirectory);   // one writer per run directory, before anything in it is touched
        AtomicFile.CleanLeftovers(runDirectory);
        string checkpointPath = Path.Combine(runDirectory, Checkpoint.FileName);

        torch.manual_seed(config.Seed);                       // weight init (and Dropout) draw from the global generator
        TModel model = task.CreateModel();
        model.to(device);
        var averages = WeightAverages<TModel>.Create(task, model, config.EmaDecay, EmaSweep, device);
        TModel? ema = averages.Main;                                        // the averaged weights, validated and saved
        using var optimizer = optim.Adam(model.parameters(), lr: config.LearningRate);
        using var generator = new Generator((ulong)config.Seed, device);   // permutations and the loss's draws
        var history = new List<EpochLog>();
        int startEpoch = 1;
        double seconds = 0;
        string? lastCheckpoint = null;
        PartialEpoch? partial = null;   // the epoch a stop interrupted, to be finished first

        if (resume && File.Exists(checkpointPath))
        {
            Checkpoint.State saved = Checkpoint.ReadState(checkpointPath);
            RequireSameRun(saved, task, checkpointPath);
            RequireSameData(Path.Combine(runDirectory, RunDirectory.ConfigFileName), task);
            Checkpoint.Load(checkpointPath, model, optimizer, generator, ema, averages.Sweep);
            history = saved.History;
            startEpoch = saved.Epoch + 1;
            seconds = saved.TrainingSeconds;
            lastCheckpoint = checkpointPath;
            partial = saved.Partial;
        }
        observer.TrainingStarted(model, startEpoch);
        AtomicFile.WriteAllText(Path.Combine(runDirectory, RunDirectory.ConfigFileName), RunDirectory.ConfigJson(config, task.Architecture, task.Settings, task.Data));

        long n = task.TrainCount;
        int batches = (int)((n + config.BatchSize - 1) / config.BatchSize);
        long totalSteps = (long)batches * config.Epochs;
        if (partial is not null) RequireFits(partial, startEpoch, n, batches, checkpointPath);
        bool unsaved = false;   // batches trained since the last checkpoint
        for (int epoch = startEpoch; epoch <= config.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            observer.EpochStarted(epoch, config.Epochs, batches);
            model.train();
            using Tensor lossSum = zeros(1, ScalarType.Float64, device);
            var partSums = new List<(string Name, Tensor Sum)>();
            int firstBatch = partial?.Batches ?? 0;
            using (Tensor order = partial is null ? randperm(n, device: device, generator: generator) : Restore(partial, lossSum, partSums))
            {
                partial = null;
                for (int b = firstBatch; b < batches; b++)
                {
                    if (cancel.IsCancellationRequested)
                    {
                        // Between batches: save what was trained since the last checkpoint, mid-epoch, then stop.
                        if (unsaved)
                        {
                            var stopped = new PartialEpoch(epoch, b, lossSum.item<double>(), partSums.Select(p => p.Name).ToList(),
                                partSums.Select(p => p.Sum.item<double>()).ToList(), order.cpu().data<long>().ToArray());
                            Checkpoint.Save(checkpointPath, new Checkpoint.State(epoch - 1, config, history, seconds + clock.Elapsed.TotalSeconds,
                                task.Architecture, task.Settings, stopped), model, optimizer, generator, ema, averages.Sweep);
                            lastCheckpoint = checkpointPath;
                        }
                        throw new TrainingStoppedException(epoch, b, batches, lastCheckpoint, unsaved);
                    }
                    using var scope = NewDisposeScope();
                    if (config.Schedule != LearningRateSchedule.Constant)
                        SetLearningRate(optimizer, config.LearningRateAt((long)(epoch - 1) * batches + b, totalSteps));
                    long start = (long)b * config.BatchSize;
                    Tensor index = order.narrow(0, start, Math.Min(config.BatchSize, n - start));
                    optimizer.zero_grad();
                    BatchLoss batch = task.Loss(model, index, generator);
                    batch.Loss.backward();
                    optimizer.step();
                    averages.Update();
                    lossSum.add_(batch.Loss.detach());
                    AddParts(partSums, batch.Parts);
                    unsaved = true;
                    observer.BatchFinished(epoch, b + 1);
                }
            }
            double trainLoss = lossSum.item<double>() / batches;   // the posts' batch-averaged train loss
            var trainParts = partSums.Select(p => new KeyValuePair<string, double>(p.Name, p.Sum.item<double>() / batches)).ToList();
            foreach (var (_, sum) in partSums) sum.Dispose();
            seconds += clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(trainLoss)) throw new TrainingDivergedException(epoch, trainLoss, lastCheckpoint);

            bool last = epoch == config.Epochs;
            if (epoch % config.LogEvery == 0 || last)
            {
                EpochLog log = ValidateEpoch(task, ema ?? model, ema is not null, epoch, trainLoss, trainParts, seconds, lastCheckpoint);
                history.Add(log);
                TrainingHistory.Save(runDirectory, history);
                observer.EpochLogged(log);
            }
            if (epoch % config.CheckpointEvery == 0 || last)
            {
                Checkpoint.Save(checkpointPath, new Checkpoint.State(epoch, config, history, seconds, task.Architecture, task.Settings), model, optimizer, generator, ema, averages.Sweep);
                lastCheckpoint = checkpointPath;
                unsaved = false;
                observer.CheckpointWritten(epoch, checkpointPath);
            }
        }

        TModel final = SaveModels(task, model, averages, runDirectory);
        return new TrainingResult<TModel>(final, history, runDirectory, seconds);
    }

    /// <summary>
    /// The end of a run: the sweep's averages as <see cref="RunDirectory.SweepModelFileName"/>; with an EMA, the raw
    /// weights as <see cref="RunDirectory.RawModelFileName"/> beside the average as <see cref="ModelFileName"/>, else
    /// the live weights as <see cref="ModelFileName"/>; all in eval mode. Returns the model saved as
    /// <see cref="ModelFileName"/>, on the CPU (the other models are disposed).
    /// </summary>
    TModel SaveModels(ITrainingTask<TModel> task, TModel model, WeightAverages<TModel> averages, string runDirectory)
    {
        var metadata = RunDirectory.Metadata(task.Architecture, task.Settings, config, task.Data);
        averages.SaveSweep(task, config, runDirectory, device);
        TModel final = model;
        if (averages.Main is { } ema)
        {
            model.eval();   // the raw weights beside the averaged ones, for comparison (with and without EMA)
            ModelWeights.Save(model, Path.Combine(runDirectory, RunDirectory.RawModelFileName), metadata);
            model.Dispose();
            final = ema;    // its BatchNorm statistics were recomputed for the last epoch's validation (always run), and no step followed
        }
        final.eval();
        ModelWeights.Save(final, Path.Combine(runDirectory, ModelFileName), metadata);
        if (device.type != DeviceType.CPU) final.to(CPU);   // results are handed back on the CPU, where evaluation and sampling start
        return final;
    }

    /// <summary>
    /// The epoch's log line: <paramref name="validated"/> (the averaged weights, given BatchNorm statistics of their own
    /// first, when <paramref name="averaged"/>) on the validation set, beside the train loss and parts. A non-finite
    /// validation loss or part (say the raw-σ KL meeting σ = 0) is a diverged run too.
    /// </summary>
    EpochLog ValidateEpoch(ITrainingTask<TModel> task, TModel validated, bool averaged, int epoch, double trainLoss,
        IEnumerable<KeyValuePair<string, double>> trainParts, double seconds, string? lastCheckpoint)
    {
        if (averaged) AveragedBatchNorm.Recompute(task, validated, config.BatchSize, config.Seed, device);
        ValidationResult val = Validate(task, validated, epoch);
        var metrics = val.Metrics.Select(m => new KeyValuePair<string, double>(m.Name, m.Value)).Concat(trainParts).ToList();
        foreach (var (name, value) in metrics.Prepend(new("val_loss", val.Loss)))
            if (!double.IsFinite(value)) throw new TrainingDivergedException(epoch, value, lastCheckpoint, name);
        return new EpochLog(epoch, trainLoss, val.Loss, seconds, metrics);
    }

    /// <summary>Eval mode and no_grad around the task's validation, with a generator seeded by (seed, epoch) so validation never shifts the training draws.</summary>
    ValidationResult Validate(ITrainingTask<TModel> task, TModel model, int epoch)
    {
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var generator = new Generator(unchecked((ulong)config.Seed * 1_000_003UL + (ulong)epoch), device);
            return task.Validate(model, config.EvalBatchSize, generator);
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>An interrupted epoch's sums back into the accumulators; returns its permutation, on the training device.</summary>
    Tensor Restore(PartialEpoch partial, Tensor lossSum, List<(string Name, Tensor Sum)> partSums)
    {
        lossSum.fill_(partial.LossSum);
        for (int i = 0; i < partial.PartNames.Count; i++)
            partSums.Add((partial.PartNames[i], full(1, partial.PartSums[i], ScalarType.Float64, device)));
        return tensor(partial.Order, device: device);
    }

    static void RequireFits(PartialEpoch partial, int epoch, long n, int batches, string path)
    {
        if (partial.Epoch != epoch || partial.Order.LongLength != n || partial.Batches < 0 || partial.Batches >= batches ||
            partial.PartNames.Count != partial.PartSums.Count)
            throw new DataFormatException(path,
                $"checkpoint stopped in epoch {partial.Epoch} after {partial.Batches} batches over {partial.Order.LongLength} examples; " +
                $"this run is at epoch {epoch} with {batches} batches over {n} examples. Use the same data and settings to resume");
    }

    static void AddParts(List<(string Name, Tensor Sum)> sums, IReadOnlyList<(string Name, Tensor Value)>? parts)
    {
        if (parts is null) return;
        for (int i = 0; i < parts.Count; i++)
        {
            if (sums.Count <= i) sums.Add((parts[i].Name, zeros(1, ScalarType.Float64, parts[i].Value.device).DetachFromDisposeScope()));
            sums[i].Sum.add_(parts[i].Value.detach());
        }
    }

    static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    void RequireSameRun(Checkpoint.State saved, ITrainingTask<TModel> task, string path)
    {
        if ((saved.Architecture ?? "Classifier") != task.Architecture || saved.Settings != task.Settings)
            throw new DataFormatException(path,
                $"checkpoint is of a {saved.Architecture ?? "Classifier"} {saved.Settings}; this run trains a {task.Architecture} {task.Settings}. " +
                "Use another --out to start afresh");
        if (saved.Config.Epochs > config.Epochs && config.Schedule == LearningRateSchedule.Constant)
            throw new DataFormatException(path, $"checkpoint was made for {saved.Config.Epochs} epochs; --epochs {config.Epochs} is fewer");
        if (!config.SameRunAs(saved.Config))
            throw new DataFormatException(path,
                $"checkpoint was made with {Describe(saved.Config)}; this run asks for {Describe(config)}. " +
                "Use the same settings to resume, or another --out to start afresh");
    }

    /// <summary>
    /// A run resumes on the data it started on: the content hash its config.json records (runs from before data was
    /// recorded carry none and are not checked) against this run's data.
    /// </summary>
    static void RequireSameData(string configPath, ITrainingTask<TModel> task)
    {
        if (task.Data is null || !File.Exists(configPath)) return;
        Data.DatasetInfo? recorded;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(configPath));
            recorded = document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty("Data", out var data)
                ? Data.DatasetInfo.FromJson(data.GetRawText()) : null;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(configPath, $"not a run's config ({e.Message})", e);
        }
        Data.DatasetInfo? current = Data.DatasetInfo.FromJson(task.Data);
        if (recorded is null || current is null || recorded.ContentSha256 == current.ContentSha256) return;
        throw new DataFormatException(configPath,
            $"this run was trained on {recorded.Describe()}; the data given now is {current.Describe()}. Use the same data to resume, or another --out to start afresh");
    }

    static string Describe(TrainingConfig c) => string.Create(CultureInfo.InvariantCulture,
        $"seed {c.Seed}, batch size {c.BatchSize}, lr {c.LearningRate}, schedule {c.Schedule.ToString().ToLowerInvariant()}, {c.Epochs} epochs");

    sealed class NullObserver : ITrainingObserver;
}
