using System.CommandLine;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Export.Distributed;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm distributed prepare | import</c>: train past one machine with PyTorch's DDP (python/ldm_train_ddp.py).</summary>
public static class DistributedCommand
{
    public static Command Create()
    {
        var command = new Command("distributed", "Train on many processes, GPUs or machines with PyTorch DDP: prepare a bundle, run it with torchrun, import the weights.");
        command.Subcommands.Add(CreatePrepare());
        command.Subcommands.Add(CreateImport());
        return command;
    }

    /// <summary>Each kind's training defaults: its train command's.</summary>
    static TrainingConfig Defaults(BundleKind kind) => kind switch
    {
        BundleKind.Classifier => new TrainingConfig(),
        BundleKind.Vae => TrainingConfig.Part2,
        _ => Recipes.DiffusionTrainingDefaults,
    };

    static Command CreatePrepare()
    {
        var kind = new Option<string>("--kind") { Description = "The model to train: classifier, vae or diffusion.", Required = true };
        kind.AcceptOnlyFromAmong("classifier", "vae", "diffusion");
        var options = new TrainingOptions(null, null);
        options.Out.Description = "The bundle folder to create (new or empty).";
        var vae = new VaeModelOptions();
        var diffusion = new DiffusionModelOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("prepare",
            "Write a self-contained bundle: the training data as the model sees it, the config, the initial weights our trainer would start from, " +
            "the PyTorch trainer and a README with the torchrun command. Options and their defaults are the kind's train command's.") { kind };
        options.AddRecipeTo(command);
        vae.AddTo(command);
        diffusion.AddTo(command);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            BundleKind k = Enum.Parse<BundleKind>(parse.GetValue(kind)!, ignoreCase: true);
            RequireOnlyFor(parse, k, BundleKind.Vae, vae.All);
            RequireOnlyFor(parse, k, BundleKind.Diffusion, diffusion.All);
            TrainingConfig config = options.Config(parse, Defaults(k));
            string bundle = parse.GetValue(options.Out)!;
            MnistData mnist;
            BundleSpec spec;
            switch (k)
            {
                case BundleKind.Classifier:
                    mnist = CommonOptions.LoadData(parse.GetValue(options.Data)!);
                    spec = BundlePreparation.Classifier(bundle, config, mnist);
                    break;
                case BundleKind.Vae:
                    var model = vae.Config(parse, 1, 32);   // MNIST bundles: one channel, 32 px
                    mnist = CommonOptions.LoadData(parse.GetValue(options.Data)!);
                    spec = BundlePreparation.Vae(bundle, config, model, mnist);
                    break;
                default:
                    DiffusionChoice choice = diffusion.Read(parse);
                    mnist = CommonOptions.LoadData(parse.GetValue(options.Data)!);
                    CliApp.Err.MarkupLine("[grey]Encoding the training and test images (one latent sample each)…[/]");
                    using (var latents = LatentSet.Encode(choice.VaePath, mnist, config.Seed))
                    {
                        DiffusionConfig d = choice.Config(latents);
                        DiffusionCommand.PrintLatents(latents, d);
                        spec = BundlePreparation.Diffusion(bundle, config, d, latents);
                    }
                    break;
            }
            string run = BundlePreparation.Command(bundle);
            CliApp.Out.MarkupLineInterpolated($"Wrote {bundle}: {spec.Architecture}, {spec.TrainCount} examples, {spec.TotalSteps} steps of batch {spec.Training.BatchSize}.");
            CliApp.Out.MarkupLineInterpolated($"Train: [bold]{run}[/]  (N dividing {spec.Training.BatchSize}); then: ldm distributed import {bundle} --out DIR");
            if (parse.GetValue(json))
                CliApp.WriteJson(new { bundle, id = spec.Id, kind = spec.Kind.ToString().ToLowerInvariant(), architecture = spec.Architecture, steps = spec.TotalSteps, command = run });
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>An option of another kind's model, given on the command line, is a usage error naming it.</summary>
    static void RequireOnlyFor(ParseResult parse, BundleKind kind, BundleKind owner, IEnumerable<Option> options)
    {
        if (kind == owner) return;
        foreach (Option o in options)
            if (parse.GetResult(o) is { Implicit: false })
                throw new InvalidOptionException($"{o.Name} applies to --kind {owner.ToString().ToLowerInvariant()}, not {kind.ToString().ToLowerInvariant()}");
    }

    static Command CreateImport()
    {
        var bundle = new Argument<string>("bundle") { Description = "A bundle made by ldm distributed prepare and trained by ldm_train_ddp.py." };
        var output = new Option<string>("--out") { Description = "Run directory to write (model.safetensors, config.json, history).", Required = true };
        var partial = new Option<bool>("--partial") { Description = "Import the last checkpoint's weights of an unfinished run." };
        var json = CommonOptions.JsonOption();
        var command = new Command("import", "Bring a trained bundle's weights home as our model.safetensors + config + history, for sample, fid, serve and export.")
        {
            bundle, output, partial, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            ImportResult result = BundleImport.Import(parse.GetValue(bundle)!, parse.GetValue(output)!, parse.GetValue(partial));
            string state = result.Partial ? $"[yellow]partial[/]: step {result.Steps} of {result.TotalSteps}" : $"finished, {result.Steps} steps";
            CliApp.Out.MarkupLine($"Wrote {Markup.Escape(result.ModelPath)} ({result.Kind.ToString().ToLowerInvariant()}, {state}, {result.LoggedEpochs} logged epochs)" +
                (result.RawModelPath is null ? "." : $" and {Markup.Escape(result.RawModelPath)}."));
            if (parse.GetValue(json))
                CliApp.WriteJson(new { model = result.ModelPath, raw = result.RawModelPath, kind = result.Kind.ToString().ToLowerInvariant(), steps = result.Steps, total_steps = result.TotalSteps, partial = result.Partial });
            return CliApp.Ok;
        }));
        return command;
    }
}
