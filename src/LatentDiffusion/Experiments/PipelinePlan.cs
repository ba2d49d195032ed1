using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Training;

namespace LatentDiffusion.Experiments;

/// <summary>One stage of a plan: its name in the model set, the epochs it trains, and the measured estimate of one epoch.</summary>
/// <param name="RecipeEpochs">The epochs of the stage's recipe, which a budget can only cut.</param>
/// <param name="EpochSeconds">Training steps per epoch × the seconds of one step, timed on this machine before the plan was made.</param>
public sealed record StagePlan(string Name, int Epochs, int RecipeEpochs, double EpochSeconds);

/// <summary>
/// How many epochs each stage of a <see cref="Pipeline"/> trains. Made once, when a pipeline starts in a new folder,
/// and recorded there (<see cref="PipelineRecord"/>), so that a resumed pipeline trains exactly the same runs.
/// </summary>
public sealed record PipelinePlan(double? BudgetMinutes, IReadOnlyList<StagePlan> Stages)
{
    /// <summary>
    /// The budget rule. Without a budget every stage trains its recipe's epochs. With a budget of M minutes, the
    /// seconds left (M · 60 − <paramref name="spentSeconds"/>, the time already spent loading the data and timing the
    /// steps) are split across the stages in proportion to what their whole recipes would take on this machine: every
    /// stage trains the same fraction f = min(1, left / Σ recipe epochs × epoch seconds) of its recipe's epochs, rounded
    /// down, at least one. So a budget never trains more than the recipes, and a stage's share of M is its share of
    /// the recipes' measured time.
    /// </summary>
    /// <param name="stages">Each stage's name, recipe epochs and measured seconds per epoch, in order.</param>
    public static PipelinePlan Fit(double? budgetMinutes, double spentSeconds, IReadOnlyList<(string Name, int RecipeEpochs, double EpochSeconds)> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (budgetMinutes is not { } minutes)
            return new PipelinePlan(null, stages.Select(s => new StagePlan(s.Name, s.RecipeEpochs, s.RecipeEpochs, s.EpochSeconds)).ToList());
        double whole = stages.Sum(s => s.RecipeEpochs * s.EpochSeconds);
        double left = Math.Max(0, minutes * 60 - spentSeconds);
        double fraction = whole > 0 ? Math.Min(1, left / whole) : 1;
        return new PipelinePlan(minutes, stages.Select(s =>
            new StagePlan(s.Name, Math.Max(1, (int)Math.Floor(fraction * s.RecipeEpochs)), s.RecipeEpochs, s.EpochSeconds)).ToList());
    }

    /// <summary>The estimated seconds of the stages' training as planned.</summary>
    [JsonIgnore]
    public double EstimatedSeconds => Stages.Sum(s => s.Epochs * s.EpochSeconds);

    /// <summary>"classifier 12, latent-vae 3, conditional 15 epochs" for messages.</summary>
    public string Describe() => string.Join(", ", Stages.Select(s => $"{s.Name} {s.Epochs}")) + " epochs";

    /// <summary>
    /// A stage's training: <paramref name="recipe"/> with the plan's <paramref name="epochs"/>, its warm-up cut to at most a
    /// tenth of the run's steps (so a short run on a small folder still reaches its peak rate; MNIST's recipes are
    /// unchanged) and a checkpoint at least every tenth of the run.
    /// </summary>
    public static TrainingConfig StageTraining(TrainingConfig recipe, int epochs, long trainCount)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        long steps = (trainCount + recipe.BatchSize - 1) / recipe.BatchSize * epochs;
        return recipe with
        {
            Epochs = epochs,
            WarmupSteps = (int)Math.Min(recipe.WarmupSteps, steps / 10),
            CheckpointEvery = Math.Max(1, Math.Min(recipe.CheckpointEvery, epochs / 10)),
        };
    }
}

/// <summary>
/// What a pipeline folder records about itself (<see cref="FileName"/>, laid out as config.json: the data as a model
/// records it, then the plan, then the stages chosen). A pipeline resumed in the folder must be given the same data,
/// budget and stages.
/// </summary>
public sealed record PipelineRecord(DatasetInfo Data, PipelinePlan Plan)
{
    /// <summary>
    /// Whether the pipeline tunes the VAE's decoder (<see cref="PipelineSettings.DecoderTuning"/>). A record written
    /// before the option existed has no such key and reads as false: those pipelines had no tuning stages.
    /// </summary>
    public bool DecoderTuning { get; init; }

    public const string FileName = "pipeline.json";

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>The record in <paramref name="directory"/>, or null when there is none.</summary>
    public static PipelineRecord? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<PipelineRecord>(File.ReadAllText(path), Options)
                ?? throw new DataFormatException(path, "is empty");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"is not a pipeline record ({e.Message})");
        }
    }

    public void Write(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Options));

    /// <summary>
    /// Null when a pipeline on <paramref name="data"/> with <paramref name="budgetMinutes"/> and
    /// <paramref name="decoderTuning"/> continues this one; else one line naming both (to follow the folder's name).
    /// </summary>
    public string? Problem(DatasetInfo data, double? budgetMinutes, bool decoderTuning)
    {
        if (Data.ContentSha256 != data.ContentSha256 || Data.Channels != data.Channels || Data.Resolution != data.Resolution ||
            !Data.ClassNames.SequenceEqual(data.ClassNames))
            return $"holds a pipeline of {Data.Describe()} from {Data.Source}; --data gives {data.Describe()} from {data.Source}. " +
                   "Give another --out, or the same data and options";
        if (Data.Split != data.Split)
            return $"holds a pipeline whose test split is {Data.Split}; this one's is {data.Split}. Give another --out, or the same --split-seed";
        if (Plan.BudgetMinutes != budgetMinutes)
            return $"holds a pipeline planned {Budget(Plan.BudgetMinutes)} ({Plan.Describe()}); this one asks {Budget(budgetMinutes)}. " +
                   "Give the same --budget-minutes to resume it, or another --out";
        if (DecoderTuning != decoderTuning)
            return $"holds a pipeline planned {Tuning(DecoderTuning)} ({Plan.Describe()}); this one asks {Tuning(decoderTuning)}. " +
                   $"{(DecoderTuning ? "Leave out" : "Give")} --no-decoder-tuning to resume it, or give another --out";
        return null;
    }

    static string Tuning(bool decoderTuning) => decoderTuning ? "with decoder tuning" : "without decoder tuning (--no-decoder-tuning)";

    static string Budget(double? minutes) => minutes is { } m
        ? string.Create(CultureInfo.InvariantCulture, $"with --budget-minutes {m}")
        : "without --budget-minutes";
}
