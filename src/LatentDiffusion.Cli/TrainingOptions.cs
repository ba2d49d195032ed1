using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Training;

namespace LatentDiffusion.Cli;

/// <summary>The options every <c>train</c> command shares, and the <see cref="TrainingConfig"/> they make.</summary>
public sealed class TrainingOptions
{
    public Option<string> Data { get; } = CommonOptions.DataOption();
    public Option<int> Epochs { get; }
    public Option<int> BatchSize { get; }
    public Option<double> LearningRate { get; }
    public Option<string> Schedule { get; }
    public Option<int> WarmupSteps { get; }
    public Option<double> MinLearningRateFraction { get; }
    public Option<long> Seed { get; }
    public Option<int> LogEvery { get; }
    public Option<int> CheckpointEvery { get; }
    public Option<double> Ema { get; }
    public Option<string?> EmaSweep { get; } = new("--ema-sweep")
    {
        Description = "Further EMA decays averaged alongside (comma-separated, each in (0, 1)), saved as model.ema-DECAY.safetensors, to choose --ema by measurement; they do not change the training.",
    };
    public Option<string> Out { get; }
    public Option<bool> Resume { get; } = new("--resume") { Description = "Continue the run in --out from its checkpoint." };
    public Option<string> Device { get; } = DeviceOption("Where the model, the data and the run's random draws live during training");

    /// <summary><c>--device cpu|cuda|cuda:N</c> (default cpu); see <see cref="ParseDevice"/>.</summary>
    public static Option<string> DeviceOption(string what) => new("--device")
    {
        Description = $"{what}: cpu, cuda or cuda:N (needs a build against TorchSharp's CUDA package; docs/operations.md, \"Training on a GPU\").",
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

    /// <param name="defaults">The recipe an option left out takes, shown in the help; null when it depends on another option (then <see cref="Config"/>'s defaults apply).</param>
    /// <param name="defaultOut">--out when not given; null makes --out required.</param>
    public TrainingOptions(TrainingConfig? defaults, string? defaultOut)
    {
        Epochs = new("--epochs") { Description = "Passes over the training set." };
        BatchSize = new("--batch-size") { Description = "Examples per step." };
        LearningRate = new("--lr") { Description = "Adam's (peak) learning rate." };
        Schedule = new("--schedule") { Description = "Learning-rate schedule: constant (the posts) or cosine." };
        Schedule.AcceptOnlyFromAmong("constant", "cosine");
        WarmupSteps = new("--warmup-steps") { Description = "With --schedule cosine: steps of linear warm-up." };
        MinLearningRateFraction = new("--min-lr-fraction") { Description = "With --schedule cosine: final rate as a fraction of --lr." };
        Seed = new("--seed") { Description = "Random seed (init, permutations, every draw of the loss)." };
        LogEvery = new("--log-every") { Description = "Validate and log every N epochs." };
        CheckpointEvery = new("--checkpoint-every") { Description = "Write a checkpoint every N epochs." };
        Ema = new("--ema") { Description = "Decay of the weights' moving average that is validated and saved, the raw weights beside it (0: off, the posts)." };
        Out = new("--out") { Description = "Run directory (config, history, checkpoint, model)." };
        if (defaults is not null)
        {
            Epochs.DefaultValueFactory = _ => defaults.Epochs;
            BatchSize.DefaultValueFactory = _ => defaults.BatchSize;
            LearningRate.DefaultValueFactory = _ => defaults.LearningRate;
            Schedule.DefaultValueFactory = _ => defaults.Schedule.ToString().ToLowerInvariant();
            WarmupSteps.DefaultValueFactory = _ => defaults.WarmupSteps;
            MinLearningRateFraction.DefaultValueFactory = _ => defaults.MinLearningRateFraction;
            Seed.DefaultValueFactory = _ => defaults.Seed;
            LogEvery.DefaultValueFactory = _ => defaults.LogEvery;
            CheckpointEvery.DefaultValueFactory = _ => defaults.CheckpointEvery;
            Ema.DefaultValueFactory = _ => defaults.EmaDecay;
        }
        if (defaultOut is not null) Out.DefaultValueFactory = _ => defaultOut;
        else Out.Required = true;
    }

    /// <param name="data">False for a trainer that reads no images (a distillation trains on its teacher's samples).</param>
    public void AddTo(Command command, bool data = true)
    {
        AddRecipeTo(command, data);
        foreach (Option option in new Option[] { EmaSweep, Resume, Device })
            command.Options.Add(option);
    }

    /// <summary>Adds what makes the recipe (data, config, --out) without what only a run here takes (--resume, --device, --ema-sweep).</summary>
    public void AddRecipeTo(Command command, bool data = true)
    {
        if (data) command.Options.Add(Data);
        foreach (Option option in new Option[] { Epochs, BatchSize, LearningRate, Schedule, WarmupSteps, MinLearningRateFraction, Seed, LogEvery, CheckpointEvery, Ema, Out })
            command.Options.Add(option);
    }

    /// <summary>The config the options ask for (<paramref name="defaults"/> where an option is not given); a setting that cannot work is a usage error naming the option.</summary>
    public TrainingConfig Config(ParseResult parse, TrainingConfig defaults)
    {
        string schedule = Given(parse, Schedule, defaults.Schedule.ToString().ToLowerInvariant())!;
        var config = defaults with
        {
            Epochs = Given(parse, Epochs, defaults.Epochs),
            BatchSize = Given(parse, BatchSize, defaults.BatchSize),
            LearningRate = Given(parse, LearningRate, defaults.LearningRate),
            Schedule = schedule == "cosine" ? LearningRateSchedule.Cosine : LearningRateSchedule.Constant,
            WarmupSteps = Given(parse, WarmupSteps, defaults.WarmupSteps),
            MinLearningRateFraction = Given(parse, MinLearningRateFraction, defaults.MinLearningRateFraction),
            Seed = Given(parse, Seed, defaults.Seed),
            LogEvery = Given(parse, LogEvery, defaults.LogEvery),
            CheckpointEvery = Given(parse, CheckpointEvery, defaults.CheckpointEvery),
            EmaDecay = Given(parse, Ema, defaults.EmaDecay),
        };
        try { config.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new InvalidOptionException($"--{Kebab(e.ParamName)}: {e.ActualValue} is out of range ({FirstLine(e.Message)})"); }
        return config;
    }

    /// <summary>The decays <c>--ema-sweep</c> names (none by default); a malformed list is a usage error.</summary>
    public double[] Sweep(ParseResult parse)
    {
        string? text = parse.GetValue(EmaSweep);
        if (text is null) return [];
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var decays = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out decays[i]) || !(decays[i] > 0 && decays[i] < 1))
                throw new InvalidOptionException($"--ema-sweep must be decays in (0, 1) separated by commas (got '{text}')");
        if (decays.Length == 0 || decays.Distinct().Count() != decays.Length)
            throw new InvalidOptionException($"--ema-sweep must name at least one decay, each once (got '{text}')");
        return decays;
    }

    /// <summary>The option's value when given on the command line, else <paramref name="fallback"/>.</summary>
    static T Given<T>(ParseResult parse, Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;

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
        "EmaDecay" => "ema",
        _ => (name ?? "value").ToLowerInvariant(),
    };
}
