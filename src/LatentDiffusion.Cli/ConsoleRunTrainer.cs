using LatentDiffusion.Experiments;
using LatentDiffusion.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli;

/// <summary>Train-or-reuse for <c>reproduce --train</c> on the console: a finished run of the same recipe is reused, an interrupted one resumed; Ctrl-C stops it at a checkpoint.</summary>
public sealed class ConsoleRunTrainer : IRunTrainer
{
    public static ConsoleRunTrainer Instance { get; } = new();

    /// <summary>Returns the path of <paramref name="run"/>'s model.safetensors, training (or resuming) first when needed.</summary>
    public string EnsureTrained<TModel>(ITrainingTask<TModel> task, TrainingConfig config, string run, string what) where TModel : nn.Module
    {
        string model = Path.Combine(run, RunDirectory.ModelFileName);
        if (RunDirectory.IsFinished(run, config, task.Architecture, task.Settings))
        {
            CliApp.Err.MarkupLineInterpolated($"[grey]Reusing the finished {what} run in {run} (delete it to train again).[/]");
            return model;
        }
        CliApp.Err.MarkupLineInterpolated($"[grey]Training the {what} in {run} ({config.Epochs} epochs; interrupt and rerun to resume).[/]");
        using TrainingResult<TModel> result = SpectreTrainingObserver.Run(observer => new Trainer<TModel>(config, observer).Train(task, run, resume: true, CliApp.Stop.Token));
        return model;
    }
}
