using System.CommandLine;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm autoencoder train | evaluate | sample | reconstruct | export</c>: part 2's plain autoencoder.</summary>
public static class AutoencoderCommand
{
    public static Command Create()
    {
        var command = new Command("autoencoder", "Train, evaluate, sample and export part 2's convolutional autoencoder.");
        command.Subcommands.Add(CreateTrain());
        foreach (Command c in Part2Commands.CreateModelCommands(Part2Kind.Autoencoder)) command.Subcommands.Add(c);
        return command;
    }

    static Command CreateTrain()
    {
        var defaults = TrainingConfig.Part2;
        var options = new TrainingOptions(defaults, "runs/autoencoder");
        var layout = new LayoutOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("train", "Train the autoencoder with the post's loss (summed squared error) and loop (Adam 1e-3, batch 128, 400 epochs by default).");
        options.AddTo(command);
        foreach (Option o in layout.All) command.Options.Add(o);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults);
            double[] sweep = options.Sweep(parse);
            Device device = options.TrainingDevice(parse);
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(options.Data)!);
            using Tensor train = TorchDevices.MoveTo(mnist.Train.ToInputs(), device);
            using Tensor validation = TorchDevices.MoveTo(mnist.Test.ToInputs(), device);
            var task = new AutoencoderTask(train, validation, new AutoencoderConfig { ChannelsLast = layout.IsChannelsLast(parse) });
            string run = parse.GetValue(options.Out)!;
            using TrainingResult<ConvAutoencoder> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<ConvAutoencoder>(config, observer, device) { EmaSweep = sweep }.Train(task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
        return command;
    }
}
