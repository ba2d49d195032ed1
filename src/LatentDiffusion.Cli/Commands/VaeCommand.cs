using System.CommandLine;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm vae train | evaluate | sample | reconstruct | export</c>: part 2's VAE.</summary>
public static class VaeCommand
{
    public static Command Create()
    {
        var command = new Command("vae", "Train, evaluate, sample and export part 2's VAE.");
        command.Subcommands.Add(CreateTrain());
        foreach (Command c in Part2Commands.CreateModelCommands(Part2Kind.Vae)) command.Subcommands.Add(c);
        return command;
    }

    static Command CreateTrain()
    {
        var defaults = TrainingConfig.Part2;
        var options = new TrainingOptions(defaults, "runs/vae");
        var modelOptions = new VaeModelOptions();
        var dataOptions = new DataOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("train", "Train the VAE with the post's loss (summed squared error + KL) and loop (Adam 1e-3, batch 128, 400 epochs by default).");
        options.AddTo(command);
        modelOptions.AddTo(command);
        dataOptions.AddTo(command);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults);
            double[] sweep = options.Sweep(parse);
            Device device = options.TrainingDevice(parse);
            ImageDataset dataset = CommonOptions.LoadDataset(parse.GetValue(options.Data)!, dataOptions.Read(parse));
            VaeConfig model = modelOptions.Config(parse).ForResolution(dataset.Channels, dataset.Resolution);   // MNIST: unchanged
            var task = new VaeTask(dataset.Train, dataset.Test, model, dataset.Info, device);
            string run = parse.GetValue(options.Out)!;
            using TrainingResult<Vae> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<Vae>(config, observer, device) { EmaSweep = sweep }.Train(task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
        return command;
    }
}
