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

    /// <summary>The option that sets <see cref="VaeConfig"/>'s <paramref name="property"/>.</summary>
    static string OptionOf(string? property) => property switch
    {
        nameof(VaeConfig.KlWeight) => "--kl-weight",
        nameof(VaeConfig.LatentChannels) => "--latent-channels",
        nameof(VaeConfig.HeadChannels) => "--head-channels",
        _ => "the VAE's settings",
    };

    static Command CreateTrain()
    {
        var defaults = TrainingConfig.Part2;
        var modelDefaults = new VaeConfig();
        var options = new TrainingOptions(defaults, "runs/vae");
        var klWeight = new Option<double>("--kl-weight") { Description = "Weight of the KL term (the post: 1).", DefaultValueFactory = _ => modelDefaults.KlWeight };
        var sigma = new Option<string>("--sigma") { Description = "What the encoder's σ channels are: raw (the post: σ itself) or logvar (log σ²).", DefaultValueFactory = _ => "raw" };
        sigma.AcceptOnlyFromAmong("raw", "logvar");
        var latent = new Option<int>("--latent-channels") { Description = "Channels of the 4x4 latent (the post: 4).", DefaultValueFactory = _ => modelDefaults.LatentChannels };
        var head = new Option<int>("--head-channels") { Description = "Hidden channels before a 1x1 conv head giving μ and σ (0, the post: none).", DefaultValueFactory = _ => modelDefaults.HeadChannels };
        var channelsLast = Part2Commands.ChannelsLastOption();
        var json = CommonOptions.JsonOption();
        var command = new Command("train", "Train the VAE with the post's loss (summed squared error + KL) and loop (Adam 1e-3, batch 128, 400 epochs by default).");
        options.AddTo(command);
        command.Options.Add(klWeight);
        command.Options.Add(sigma);
        command.Options.Add(latent);
        command.Options.Add(head);
        command.Options.Add(channelsLast);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults);
            double[] sweep = options.Sweep(parse);
            var model = modelDefaults with
            {
                KlWeight = parse.GetValue(klWeight),
                Sigma = parse.GetValue(sigma) == "logvar" ? SigmaParameterization.LogVariance : SigmaParameterization.Raw,
                LatentChannels = parse.GetValue(latent),
                HeadChannels = parse.GetValue(head),
                ChannelsLast = parse.GetValue(channelsLast),
            };
            try { model.Validate(); }
            catch (ArgumentException e) { throw new InvalidOptionException($"{OptionOf(e.ParamName)}: {e.Message.Split(" (Parameter")[0]}"); }
            Device device = options.TrainingDevice(parse);
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(options.Data)!);
            using Tensor train = TorchDevices.MoveTo(mnist.Train.ToInputs(), device);
            using Tensor validation = TorchDevices.MoveTo(mnist.Test.ToInputs(), device);
            var task = new VaeTask(train, validation, model);
            string run = parse.GetValue(options.Out)!;
            using TrainingResult<Vae> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<Vae>(config, observer, device) { EmaSweep = sweep }.Train(task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
        return command;
    }
}
