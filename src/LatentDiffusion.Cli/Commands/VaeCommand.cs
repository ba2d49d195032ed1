using System.CommandLine;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm vae train | tune-decoder | evaluate | sample | reconstruct | export</c>: part 2's VAE.</summary>
public static class VaeCommand
{
    public static Command Create()
    {
        var command = new Command("vae", "Train, evaluate, sample and export part 2's VAE.");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateTuneDecoder());
        foreach (Command c in Part2Commands.CreateModelCommands(Part2Kind.Vae)) command.Subcommands.Add(c);
        return command;
    }

    static Command CreateTuneDecoder()
    {
        var defaults = Recipes.DecoderTuning;
        var options = new TrainingOptions(defaults, "runs/vae-tuned");
        var vae = new Option<string>("--vae") { Description = "The trained VAE whose decoder is tuned; its encoder, and so its latents, stay as they are.", Required = true };
        var classifier = new Option<string>("--classifier")
        {
            Description = "The perceptual classifier whose feature maps the decoder learns to match; use one other than the FID's (e.g. `ldm classifier train --seed 1`), or the FID would score the net it was tuned against.",
            Required = true,
        };
        var weight = new Option<double>("--feature-weight") { Description = "λ of the perceptual term (0: squared error only).", DefaultValueFactory = _ => Recipes.DecoderFeatureWeight };
        var width = new Option<int>("--decoder-width")
        {
            Description = "Make the decoder K times wider before tuning, starting from the base decoder's function (Net2Net): more capacity for texture, about K² times the decoder's FLOPs. Default: 1, the base's shape.",
            DefaultValueFactory = _ => 1,
        };
        var dataOptions = new DataOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("tune-decoder",
            "Sharpen a VAE's decoder: squared error + λ·the distance of a classifier's feature maps (docs/metrics.md), the encoder frozen so every generator trained on its latents still fits.");
        options.AddTo(command);
        foreach (Option o in (Option[])[vae, classifier, weight, width]) command.Options.Add(o);
        dataOptions.AddTo(command);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults);
            Device device = options.TrainingDevice(parse);
            string vaePath = CliApp.RequireFile(parse.GetValue(vae), "--vae");
            string classifierPath = CliApp.RequireFile(parse.GetValue(classifier), "--classifier");
            double lambda = parse.GetValue(weight);
            if (!(lambda >= 0) || double.IsInfinity(lambda)) throw new InvalidOptionException($"--feature-weight: {lambda} is not a finite number ≥ 0");
            int k = parse.GetValue(width);
            if (k is < 1 or > 8) throw new InvalidOptionException($"--decoder-width: {k} is not an integer from 1 to 8");
            ImageDataset dataset = CommonOptions.LoadDataset(parse.GetValue(options.Data)!, dataOptions.Read(parse));
            if (DataMatch.PerceptualClassifierNote(ModelFile.ReadData(classifierPath), classifierPath, dataset.Info) is { } note)
                CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {note}");
            var task = new DecoderTuningTask(vaePath, classifierPath, lambda, dataset.Train, dataset.Test, dataset.Info, device, k);
            string run = parse.GetValue(options.Out)!;
            using TrainingResult<Vae> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<Vae>(config, observer, device).Train(task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
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
            VaeConfig model = modelOptions.Config(parse, dataset.Channels, dataset.Resolution);   // MNIST: unchanged
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
