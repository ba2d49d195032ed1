using System.Globalization;
using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>
/// One stage's outcome: its weights (published into the model set, or in its run for a stage whose model is not in the
/// set: the perceptual classifier, and the trained VAE when its decoder is tuned), whether it was already done, its training seconds (over
/// every run of it) and the wall seconds spent on it here.
/// </summary>
public sealed record StageResult(string Name, string Weights, int Epochs, bool Skipped, double TrainingSeconds, double Seconds);

/// <summary>A finished pipeline: the model set (the folder the FID table and report read) and each stage's outcome.</summary>
public sealed record PipelineResult(string ModelSet, PipelinePlan Plan, IReadOnlyList<StageResult> Stages, double Seconds)
{
    /// <summary>The last stage's FID table and report (null when the report was already current and skipped: its files are in <see cref="ReportDirectory"/>).</summary>
    public DatasetReproductionResult? Table { get; init; }

    /// <summary>Where the report is: <c>OUT/report</c>.</summary>
    public string? ReportDirectory { get; init; }

    public string Weights(string name) => Stages.Single(s => s.Name == name).Weights;
}

/// <summary>
/// A user's labelled images to a generator, stage by stage (<c>ldm pipeline</c>): (1) part 1's classifier, whose
/// features define the data's FID; (2) the latent VAE; (3) a perceptual classifier, another seed of the first, and
/// (4) the VAE's decoder tuned against its features, the encoder frozen (the shipped sets' sharper decoder;
/// <see cref="PipelineSettings.DecoderTuning"/> leaves both out); (5) the class-conditional α-deblending UNet on the
/// trained VAE's latents, which the tuned decoder shares bit for bit. Each stage is a normal run directory,
/// <c>OUT/train/NAME</c> (its own lock, checkpoint and resume), and when it is finished its model is published into
/// <c>OUT</c> as a <see cref="ModelSet"/> (<c>classifier</c>, <c>latent-vae</c> — the tuned decoder when there is one —
/// and <c>conditional</c>). A stage already finished is skipped, an interrupted one resumed. The whole folder is locked
/// (<see cref="RunLock"/>) and bound to its data, plan and stages (<see cref="PipelineRecord"/>): another dataset,
/// split, budget or choice of decoder tuning into the same folder is one line naming both.
/// </summary>
public static class Pipeline
{
    /// <summary>Where the stages' run directories go inside the pipeline folder.</summary>
    public const string TrainFolder = "train";

    /// <summary>The names of the two decoder-tuning stages (their runs in <see cref="TrainFolder"/>; neither is a model-set name).</summary>
    public const string PerceptualClassifierStage = "perceptual-classifier", DecoderTuningStage = "decoder-tuning";

    /// <summary>Loads <paramref name="dataSpec"/> (any <c>--data</c>, see <see cref="Datasets.Load"/>) and runs the pipeline on it; a dataset that cannot be used fails before anything is written.</summary>
    public static PipelineResult Run(string dataSpec, DatasetOptions dataOptions, string outDirectory, PipelineSettings? settings = null,
        IPipelineObserver? observer = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        RequireOutFolder(outDirectory);
        (settings ?? new PipelineSettings()).Validate();
        ImageDataset data = Datasets.Load(dataSpec, dataOptions, observer is null ? null : observer.Notice);
        return Run(data, outDirectory, settings, observer, cancel, clock);
    }

    /// <summary>Runs the pipeline on <paramref name="data"/> into <paramref name="outDirectory"/>; see the class summary.</summary>
    public static PipelineResult Run(ImageDataset data, string outDirectory, PipelineSettings? settings = null, IPipelineObserver? observer = null,
        CancellationToken cancel = default) => Run(data, outDirectory, settings, observer, cancel, Stopwatch.StartNew());

    static PipelineResult Run(ImageDataset data, string outDirectory, PipelineSettings? settings, IPipelineObserver? observer, CancellationToken cancel, Stopwatch clock)
    {
        ArgumentNullException.ThrowIfNull(data);
        settings ??= new PipelineSettings();
        settings.Validate();
        observer ??= new NullObserver();
        RequireOutFolder(outDirectory);
        using RunLock folderLock = RunLock.Acquire(outDirectory);   // one pipeline per folder; each stage locks its own run too
        AtomicFile.CleanLeftovers(outDirectory);

        IReadOnlyList<Stage> stages = Stages(data, settings, outDirectory);
        PipelineRecord? record = PipelineRecord.Read(outDirectory);
        if (record?.Problem(data.Info, settings.BudgetMinutes, settings.DecoderTuning) is { } problem) throw new DataFormatException(outDirectory, problem);
        if (record is not null && !record.Plan.Stages.Select(s => s.Name).SequenceEqual(stages.Select(s => s.Name)))
            throw new DataFormatException(Path.Combine(outDirectory, PipelineRecord.FileName), "plans other stages than this version's; give another --out");
        if (record is null)
        {
            record = new PipelineRecord(data.Info, MakePlan(stages, settings, clock, observer)) { DecoderTuning = settings.DecoderTuning };
            record.Write(outDirectory);
        }
        PipelinePlan plan = record.Plan;
        observer.Notice($"plan: {plan.Describe()}{(plan.BudgetMinutes is { } m ? $" (--budget-minutes {m})" : "")}; about {PipelineProgress.Duration(plan.EstimatedSeconds)} of training as timed");

        var eta = new PipelineEta(plan, clock);
        TrainingConfig[] configs = stages.Select((s, i) => PipelinePlan.StageTraining(s.Recipe, plan.Stages[i].Epochs, data.Train.Count)).ToArray();
        for (int i = 0; i < stages.Count; i++)
            if (stages[i].IsFinished(configs[i])) eta.Done(i);   // the ETA leaves out what is done; each stage is asked again when reached
        var results = new List<StageResult>();
        for (int i = 0; i < stages.Count; i++)
        {
            Stage stage = stages[i];
            int index = i;
            void Report(string what, string detail) =>
                observer.Progress(new PipelineProgress(index + 1, stages.Count + 1, stage.Name, what, detail, eta.Elapsed, eta.Remaining()));
            TrainingConfig config = configs[i];
            double started = eta.Elapsed;
            bool skipped = stage.IsFinished(config);
            if (skipped)
            {
                eta.Done(i);
                Report("skipped", $"the {stage.What} run in {stage.Run} is finished ({config.Epochs} epochs); skipped");
            }
            else
            {
                Report("started", $"training the {stage.What}, {config.Epochs} epoch{(config.Epochs == 1 ? "" : "s")}, in {stage.Run}");
                var trainer = new StageTrainer(eta.Observe(i, observer.Training, line => Report("epoch", line)), cancel);
                using (observer.StopSection()) stage.Train(trainer, config);
                eta.Done(i);
            }
            string weights = stage.PublishAs is { } name ? ModelSet.Publish(stage.Run, outDirectory, name) : Path.Combine(stage.Run, RunDirectory.ModelFileName);
            double trainingSeconds = Checkpoint.ReadState(Path.Combine(stage.Run, Checkpoint.FileName)).TrainingSeconds;
            if (!skipped)
                Report("finished", $"{stage.What} trained in {PipelineProgress.Duration(trainingSeconds)}; {(stage.PublishAs is null ? "kept" : "published")} {weights}");
            results.Add(new StageResult(stage.Name, weights, config.Epochs, skipped, trainingSeconds, eta.Elapsed - started));
        }
        // The last stage: the series' FID table and the report of the model set, skipped when a report of these very
        // weights (their SHA-256) at this sample count is there.
        string reportDirectory = Path.Combine(outDirectory, ReportFolder);
        void ReportStage(string what, string detail) =>
            observer.Progress(new PipelineProgress(stages.Count + 1, stages.Count + 1, ReportFolder, what, detail, eta.Elapsed, 0));
        ModelSet set = ModelSet.Open(outDirectory);
        DatasetReproductionResult? table = null;
        if (ReportIsCurrent(reportDirectory, set, settings.ReportSamples))
            ReportStage("skipped", $"the report in {reportDirectory} is of these models; skipped");
        else
        {
            ReportStage("started", $"the FID table: {settings.ReportSamples} samples unguided and guided, precision, recall, density, coverage, memorisation");
            table = DatasetReproduction.Run(new DatasetReproductionInputs(set, data, reportDirectory) { Count = settings.ReportSamples }, observer.Report);
            DatasetRow generator = table.Rows.Single(r => r.Name == "Generator, guided");
            ReportStage("finished", string.Create(CultureInfo.InvariantCulture,
                $"generator {generator.RatioToValidation:F2}x Validation FID; report {table.Report!.IndexPath}"));
        }
        return new PipelineResult(outDirectory, plan, results, clock.Elapsed.TotalSeconds) { Table = table, ReportDirectory = reportDirectory };
    }

    /// <summary>The report's folder inside the pipeline folder.</summary>
    public const string ReportFolder = "report";

    /// <summary>Whether <paramref name="reportDirectory"/> holds a report of <paramref name="set"/>'s weights at <paramref name="samples"/> samples.</summary>
    static bool ReportIsCurrent(string reportDirectory, ModelSet set, int samples)
    {
        string json = Path.Combine(reportDirectory, Reports.DatasetReportPage.JsonName);
        if (!File.Exists(json) || !File.Exists(Path.Combine(reportDirectory, Reports.Page.IndexName))) return false;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
            var root = document.RootElement;
            string[] recorded = root.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("sha256").GetString() ?? "").ToArray();
            string[] current = [ModelWeights.Sha256(set.ClassifierPath), ModelWeights.Sha256(set.VaePath), ModelWeights.Sha256(set.GeneratorPath)];
            return root.GetProperty("count").GetInt32() == samples && recorded.SequenceEqual(current);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;   // not a report this version wrote: write it again
        }
    }

    /// <summary>--out must be a folder that is new, empty, or a pipeline's (one line otherwise, before anything is loaded).</summary>
    static void RequireOutFolder(string outDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(outDirectory);
        if (File.Exists(outDirectory)) throw new DataFormatException(outDirectory, "is a file; --out takes a folder for the pipeline");
        if (!Directory.Exists(outDirectory) || File.Exists(Path.Combine(outDirectory, PipelineRecord.FileName))) return;
        var foreign = Directory.EnumerateFileSystemEntries(outDirectory)
            .Select(Path.GetFileName)
            .Where(n => n is not (RunLock.FileName or RunLock.OwnerFileName or TrainFolder) && !n!.EndsWith(AtomicFile.TempSuffix, StringComparison.Ordinal))
            .ToList();
        if (foreign.Count > 0)
            throw new DataFormatException(outDirectory, $"holds other files ({foreign[0]}{(foreign.Count > 1 ? ", …" : "")}) and no {PipelineRecord.FileName}; give a new or empty folder to --out");
    }

    /// <summary>Times each stage's training steps, then fits the plan (<see cref="PipelinePlan.Fit"/>).</summary>
    static PipelinePlan MakePlan(IReadOnlyList<Stage> stages, PipelineSettings settings, Stopwatch clock, IPipelineObserver observer)
    {
        var timed = new List<(string, int, double)>();
        foreach (Stage stage in stages)
        {
            double step = stage.SecondsPerStep(settings.TimedSteps);
            timed.Add((stage.Name, stage.Recipe.Epochs, step * stage.StepsPerEpoch));
        }
        PipelinePlan plan = PipelinePlan.Fit(settings.BudgetMinutes, clock.Elapsed.TotalSeconds, timed);
        if (settings.BudgetMinutes is { } minutes && clock.Elapsed.TotalSeconds + plan.EstimatedSeconds > minutes * 60 * 1.05)
            observer.Notice($"--budget-minutes {minutes} is less than one epoch of each stage needs (about {PipelineProgress.Duration(clock.Elapsed.TotalSeconds + plan.EstimatedSeconds)} as timed); training one epoch each");
        return plan;
    }

    /// <summary>
    /// One stage: its name (of its run, and in the plan), its run directory and recipe, the timing of its training step,
    /// whether its run is finished, its training through an <see cref="IRunTrainer"/>, and the model-set name its model
    /// is published under (null: it stays in its run).
    /// </summary>
    sealed record Stage(string Name, string What, string Run, TrainingConfig Recipe, long StepsPerEpoch, Func<int, double> SecondsPerStep,
        Func<TrainingConfig, bool> IsFinished, Action<IRunTrainer, TrainingConfig> Train, string? PublishAs);

    static IReadOnlyList<Stage> Stages(ImageDataset data, PipelineSettings settings, string outDirectory)
    {
        string RunOf(string name) => Path.Combine(outDirectory, TrainFolder, name);
        long StepsPerEpoch(TrainingConfig recipe) => (data.Train.Count + recipe.BatchSize - 1) / recipe.BatchSize;
        string classifierRun = RunOf(ModelSet.Classifier), vaeRun = RunOf(ModelSet.LatentVae), conditionalRun = RunOf(ModelSet.Conditional);
        string perceptualRun = RunOf(PerceptualClassifierStage), tuningRun = RunOf(DecoderTuningStage);
        string vaePath = Path.Combine(vaeRun, RunDirectory.ModelFileName), perceptualPath = Path.Combine(perceptualRun, RunDirectory.ModelFileName);
        VaeConfig vae = settings.LatentVae.ForResolution(data.Channels, data.Resolution);
        UNetConfig unet = ((settings.UNet ?? Recipes.ConditionalUNetAt(vae.LatentSide, vae.LatentChannels)) with { LatentChannels = vae.LatentChannels, Classes = data.Classes }).ForLatentSide(vae.LatentSide);
        TrainingConfig perceptual = settings.PerceptualClassifierTraining, tuning = settings.DecoderTuningTraining;
        var stages = new List<Stage>
        {
            new(ModelSet.Classifier, "classifier", classifierRun, settings.ClassifierTraining, StepsPerEpoch(settings.ClassifierTraining),
                steps => TimeSteps(ClassifierTask.For(data), settings.ClassifierTraining, steps),
                config => IsFinished(ClassifierTask.For(data), config, classifierRun),
                (trainer, config) =>
                {
                    using ClassifierTask task = ClassifierTask.For(data);
                    trainer.EnsureTrained(task, config, classifierRun, "classifier");
                },
                ModelSet.Classifier),
            new(ModelSet.LatentVae, "latent VAE", vaeRun, settings.LatentVaeTraining, StepsPerEpoch(settings.LatentVaeTraining),
                steps => TimeSteps(new VaeTask(data.Train, data.Test, vae, data.Info), settings.LatentVaeTraining, steps),
                config => IsFinished(new VaeTask(data.Train, data.Test, vae, data.Info), config, vaeRun),
                (trainer, config) => ShippedRuns.TrainLatentVae(data, vaeRun, trainer, config, settings.LatentVae),
                settings.DecoderTuning ? null : ModelSet.LatentVae),   // with a tuned decoder the trained VAE stays in its run
        };
        if (settings.DecoderTuning)
        {
            stages.Add(new(PerceptualClassifierStage, "perceptual classifier", perceptualRun, perceptual, StepsPerEpoch(perceptual),
                steps =>
                {
                    using ClassifierTask task = ClassifierTask.For(data);
                    return TimeSteps(task, perceptual, steps);
                },
                config =>
                {
                    using ClassifierTask task = ClassifierTask.For(data);
                    return IsFinished(task, config, perceptualRun);
                },
                (trainer, config) => ShippedRuns.TrainPerceptualClassifier(data, perceptualRun, trainer, config),
                null));
            stages.Add(new(DecoderTuningStage, "decoder tuning", tuningRun, tuning, StepsPerEpoch(tuning),
                steps => TimeDecoderTuningSteps(data, vae, tuning, steps),
                config => IsDecoderTuningFinished(data, vaePath, perceptualPath, config, tuningRun),
                (trainer, config) => ShippedRuns.TuneDecoderAgainst(data, vaePath, perceptualPath, tuningRun, trainer, config),
                ModelSet.LatentVae));
        }
        stages.Add(new(ModelSet.Conditional, "class-conditional generator", conditionalRun, settings.ConditionalTraining, StepsPerEpoch(settings.ConditionalTraining),
            steps => TimeConditionalSteps(vae, unet, data.Train.Count, settings.ConditionalTraining, steps),
            config => IsConditionalFinished(conditionalRun, config, vaePath, unet),
            (trainer, config) => ShippedRuns.TrainConditional(data, vaePath, conditionalRun, trainer, config, settings.UNet),
            ModelSet.Conditional));
        return stages;
    }

    static bool IsFinished<TModel>(ITrainingTask<TModel> task, TrainingConfig config, string run) where TModel : nn.Module =>
        RunDirectory.IsFinished(run, config, task.Architecture, task.Settings);

    /// <summary>
    /// Whether the conditional run is finished without encoding the data again: its recorded model must be
    /// <paramref name="unet"/> on the latents of the VAE at <paramref name="vaePath"/> (by the SHA-256 of its latent
    /// space, <see cref="VaeLineage.LatentSpaceOf"/>: the trained VAE's, which a tuned decoder shares); the latents are
    /// a function of that VAE, the data and the seed, which the pipeline folder fixes.
    /// </summary>
    static bool IsConditionalFinished(string run, TrainingConfig config, string vaePath, UNetConfig unet)
    {
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        if (!File.Exists(checkpoint) || !File.Exists(Path.Combine(run, RunDirectory.ModelFileName)) || !File.Exists(vaePath)) return false;
        Checkpoint.State state = Checkpoint.ReadState(checkpoint);
        if (state.Settings is null || !RunDirectory.IsFinished(run, config, nameof(UNet), state.Settings)) return false;
        DiffusionConfig? recorded = JsonSerializer.Deserialize<DiffusionConfig>(state.Settings);
        return recorded is not null && recorded.VaeSha256 == VaeLineage.LatentSpaceOf(vaePath) && recorded.UNet == unet &&
               recorded.Objective == DiffusionObjective.AlphaDeblending;
    }

    /// <summary>
    /// Whether the decoder tuning's run is finished: the same tuning (<see cref="DecoderTuningTask.Settings"/> records
    /// the trained VAE's and the perceptual classifier's SHA-256) of a run that exists; false while either input is missing.
    /// </summary>
    static bool IsDecoderTuningFinished(ImageDataset data, string vaePath, string classifierPath, TrainingConfig config, string run)
    {
        if (!File.Exists(Path.Combine(run, RunDirectory.ModelFileName)) || !File.Exists(vaePath) || !File.Exists(classifierPath)) return false;
        return IsFinished(ShippedRuns.DecoderTuningOf(data, vaePath, classifierPath), config, run);
    }

    /// <summary>
    /// Seconds of one training step (forward, backward, Adam) of <paramref name="task"/>'s model on its first batch:
    /// the mean of <paramref name="steps"/> steps after an untimed one. Draws come from a generator of the config's seed;
    /// the global generator the model's initialisation uses is reseeded by the trainer before it trains.
    /// </summary>
    static double TimeSteps<TModel>(ITrainingTask<TModel> task, TrainingConfig config, int steps) where TModel : nn.Module
    {
        using TModel model = task.CreateModel();
        model.train();
        using var optimizer = optim.Adam(model.parameters(), lr: config.LearningRate);
        using var generator = new Generator((ulong)config.Seed);
        using Tensor indices = arange(Math.Min(config.BatchSize, task.TrainCount), dtype: ScalarType.Int64);
        var clock = new Stopwatch();
        for (int s = 0; s <= steps; s++)
        {
            if (s == 1) clock.Start();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            task.Loss(model, indices, generator).Loss.backward();
            optimizer.step();
        }
        return clock.Elapsed.TotalSeconds / steps;
    }

    /// <summary>As <see cref="TimeSteps{TModel}"/> for the conditional UNet, on random latents of the VAE's shape (the VAE is not trained yet).</summary>
    static double TimeConditionalSteps(VaeConfig vae, UNetConfig unet, long trainCount, TrainingConfig config, int steps)
    {
        long[] latent;
        using (var untrained = new Vae(vae)) latent = untrained.LatentShape;
        long n = Math.Min(config.BatchSize, trainCount);
        using var generator = new Generator((ulong)config.Seed);
        using Tensor latents = randn([n, .. latent], generator: generator);
        using Tensor labels = randint(0, unet.Classes, [n], dtype: ScalarType.Int64, generator: generator);
        var diffusion = ShippedRuns.ConditionalConfig(new DiffusionConfig { UNet = unet with { Classes = 0 } }, unet.Classes, unet);
        using var task = new DiffusionTask(latents, latents, diffusion, labels, labels);
        return TimeSteps(task, config, steps);
    }

    /// <summary>
    /// As <see cref="TimeSteps{TModel}"/> for the decoder tuning (an encoder and decoder forward, the decoder's backward,
    /// the perceptual classifier's forward and backward), with the real task on an untrained VAE and classifier of the
    /// data's shape: neither is trained yet when the plan is made. They are written to a temporary folder, removed after.
    /// </summary>
    static double TimeDecoderTuningSteps(ImageDataset data, VaeConfig vae, TrainingConfig config, int steps)
    {
        string folder = Directory.CreateTempSubdirectory("ldm-pipeline-timing-").FullName;
        try
        {
            string vaeFile = Path.Combine(folder, "vae.safetensors"), classifierFile = Path.Combine(folder, "classifier.safetensors");
            var vaeTask = new VaeTask(data.Train, data.Test, vae, data.Info);
            using (Vae untrained = vaeTask.CreateModel())
                ModelWeights.Save(untrained, vaeFile, RunDirectory.Metadata(vaeTask.Architecture, vaeTask.Settings, config));
            using (ClassifierTask classifierTask = ClassifierTask.For(data))
            using (Classifier untrained = classifierTask.CreateModel())
                ModelWeights.Save(untrained, classifierFile, RunDirectory.Metadata(classifierTask.Architecture, classifierTask.Settings, config));
            return TimeSteps(ShippedRuns.DecoderTuningOf(data, vaeFile, classifierFile), config, steps);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Trains a stage's run (resuming it when interrupted) with the pipeline's observer and stop token.</summary>
    sealed class StageTrainer(ITrainingObserver observer, CancellationToken cancel) : IRunTrainer
    {
        public string EnsureTrained<TModel>(ITrainingTask<TModel> task, TrainingConfig config, string run, string what) where TModel : nn.Module
        {
            if (!RunDirectory.IsFinished(run, config, task.Architecture, task.Settings))
                using (new Trainer<TModel>(config, observer).Train(task, run, resume: true, cancel)) { }
            return Path.Combine(run, RunDirectory.ModelFileName);
        }
    }

    sealed class NullObserver : IPipelineObserver;
}
