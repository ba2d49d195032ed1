using System.CommandLine;
using LatentDiffusion.Training;

namespace LatentDiffusion.Cli;

/// <summary>The options every <c>train</c> command shares, and the <see cref="TrainingConfig"/> they make.</summary>
public sealed class TrainingOptions
{
    public Option<string> Data { get; } = Commands.ClassifierCommand.DataOption();
    public Option<int> Epochs { get; }
    public Option<int> BatchSize { get; }
    public Option<double> LearningRate { get; }
    public Option<string> Schedule { get; }
    public Option<int> WarmupSteps { get; }
    public Option<double> MinLearningRateFraction { get; }
    public Option<long> Seed { get; }
    public Option<int> LogEvery { get; }
    public Option<int> CheckpointEvery { get; }
    public Option<string> Out { get; }
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue the run in --out from its checkpoint." };
    public Option<string> Device { get; } = DeviceOption("Where the model, the data and the run's random draws live during training");

    /// <summary><c>--device cpu|cuda|cuda:N</c> (default cpu); see <see cref="ParseDevice"/>.</summary>
    public static Option<string> DeviceOption(string what) => new("--device")
    {
        Description = $"{what}: cpu, cuda or cuda:N (needs a build against TorchSharp's CUDA package; README, \"Training on a GPU\").",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The device <c>--device</c> names; a device this build or machine cannot use is a usage error saying why.</summary>
    public static TorchSharp.torch.Device ParseDevice(ParseResult parse, Option<string> option)
    {
        try { return LatentDiffusion.Native.TorchDevices.Parse(parse.GetValue(option)!); }
        catch (ArgumentException e) { throw new InvalidOptionException($"--device: {e.Message}"); }
    }

    /// <summary>The training device (<see cref="Device"/>).</summary>
    public TorchSharp.torch.Device TrainingDevice(ParseResult parse) => ParseDevice(parse, Device);

    public TrainingOptions(TrainingConfig defaults, string defaultOut)
    {
        Epochs = new("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => defaults.Epochs };
        BatchSize = new("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => defaults.BatchSize };
        LearningRate = new("--lr") { Description = "Adam's (peak) learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        Schedule = new("--schedule") { Description = "Learning-rate schedule: constant (the posts) or cosine.", DefaultValueFactory = _ => defaults.Schedule.ToString().ToLowerInvariant() };
        Schedule.AcceptOnlyFromAmong("constant", "cosine");
        WarmupSteps = new("--warmup-steps") { Description = "With --schedule cosine: steps of linear warm-up.", DefaultValueFactory = _ => defaults.WarmupSteps };
        MinLearningRateFraction = new("--min-lr-fraction") { Description = "With --schedule cosine: final rate as a fraction of --lr.", DefaultValueFactory = _ => defaults.MinLearningRateFraction };
        Seed = new("--seed") { Description = "Random seed (init, permutations, every draw of the loss).", DefaultValueFactory = _ => defaults.Seed };
        LogEvery = new("--log-every") { Description = "Validate and log every N epochs.", DefaultValueFactory = _ => defaults.LogEvery };
        CheckpointEvery = new("--checkpoint-every") { Description = "Write a checkpoint every N epochs.", DefaultValueFactory = _ => defaults.CheckpointEvery };
        Out = new("--out") { Description = "Run directory (config, history, checkpoint, model).", DefaultValueFactory = _ => defaultOut };
    }

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Data, Epochs, BatchSize, LearningRate, Schedule, WarmupSteps, MinLearningRateFraction, Seed, LogEvery, CheckpointEvery, Out, Resume, Device })
            command.Options.Add(option);
    }

    /// <summary>The config the options ask for; a setting that cannot work is a usage error naming the option.</summary>
    public TrainingConfig Config(ParseResult parse, TrainingConfig defaults)
    {
        var config = defaults with
        {
            Epochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            LearningRate = parse.GetValue(LearningRate),
            Schedule = parse.GetValue(Schedule) == "cosine" ? LearningRateSchedule.Cosine : LearningRateSchedule.Constant,
            WarmupSteps = parse.GetValue(WarmupSteps),
            MinLearningRateFraction = parse.GetValue(MinLearningRateFraction),
            Seed = parse.GetValue(Seed),
            LogEvery = parse.GetValue(LogEvery),
            CheckpointEvery = parse.GetValue(CheckpointEvery),
        };
        try { config.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new InvalidOptionException($"--{Kebab(e.ParamName)}: {e.ActualValue} is out of range ({FirstLine(e.Message)})"); }
        return config;
    }

    static string FirstLine(string message) => message.Split('\n')[0].Split(" (Parameter")[0];

    static string Kebab(string? name) => name switch
    {
        "BatchSize" => "batch-size",
        "LearningRate" => "lr",
        "LogEvery" => "log-every",
        "CheckpointEvery" => "checkpoint-every",
        "EvalBatchSize" => "eval-batch-size",
        "WarmupSteps" => "warmup-steps",
        "MinLearningRateFraction" => "min-lr-fraction",
        _ => (name ?? "value").ToLowerInvariant(),
    };
}
