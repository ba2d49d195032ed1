using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Reports;
using LatentDiffusion.Data;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using Spectre.Console;
using ValidationResult = LatentDiffusion.Training.ValidationResult;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

public enum Part2Kind { Autoencoder, Vae }

/// <summary>What <c>ldm vae</c> and <c>ldm autoencoder</c> share: evaluate, sample, reconstruct, export, and the end-of-training summary.</summary>
public static class Part2Commands
{
    static string Noun(Part2Kind kind) => kind == Part2Kind.Vae ? "VAE" : "autoencoder";

    internal static Option<string> ModelOption(Part2Kind kind) => new("--model")
    {
        Description = $"{Noun(kind)} weights (.safetensors or .pt). Default: the shipped models/{DefaultFile(kind)}.",
        DefaultValueFactory = _ => Defaults.Model(DefaultFile(kind)),
    };

    static string DefaultFile(Part2Kind kind) => kind == Part2Kind.Vae ? "vae.safetensors" : "autoencoder.safetensors";

    public static IEnumerable<Command> CreateModelCommands(Part2Kind kind)
    {
        yield return CreateEvaluate(kind);
        yield return CreateSample(kind);
        yield return CreateReconstruct(kind);
        yield return CreateExport(kind);
    }

    /// <summary>The model in <paramref name="path"/> as a module, checked to be of <paramref name="kind"/>.</summary>
    internal static nn.Module Load(Part2Kind kind, string path) =>
        kind == Part2Kind.Vae ? ModelFile.LoadVae(path) : ModelFile.LoadAutoencoder(path);

    static Command CreateEvaluate(Part2Kind kind)
    {
        var model = ModelOption(kind);
        var data = CommonOptions.DataOption();
        var seed = CommonOptions.SeedOption();
        var json = CommonOptions.JsonOption();
        var command = new Command("evaluate", $"The {Noun(kind)}'s loss on the 10k test images, as the post validates it (eval mode{(kind == Part2Kind.Vae ? ", one sampled z per image" : "")}).")
        {
            model, data, seed, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            string path = CliApp.RequireFile(parse.GetValue(model), "model");
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);
            using Tensor test = mnist.Test.ToInputs();
            using var generator = new Generator(unchecked((ulong)parse.GetValue(seed)));
            ValidationResult result;
            long parameters;
            using (no_grad())
            {
                if (kind == Part2Kind.Vae)
                {
                    using Vae vae = ModelFile.LoadVae(path);
                    result = new VaeTask(test, test, vae.Config).Validate(vae, 1000, generator);
                    parameters = vae.ParameterCount();
                }
                else
                {
                    using ConvAutoencoder ae = ModelFile.LoadAutoencoder(path);
                    result = new AutoencoderTask(test, test, ae.Config).Validate(ae, 1000, generator);
                    parameters = ae.ParameterCount();
                }
            }
            string parts = string.Concat(result.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $", {m.Name} {m.Value:F3}")));
            CliApp.Out.MarkupLineInterpolated($"{Noun(kind)} {path}: test loss [bold]{result.Loss:F3}[/] per image{parts} ({mnist.Test.Count} images, {parameters} parameters).");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    model = path,
                    sha256 = ModelWeights.Sha256(path),
                    parameters,
                    count = mnist.Test.Count,
                    loss = result.Loss,
                    metrics = result.Metrics.ToDictionary(m => m.Name, m => m.Value),
                });
            return CliApp.Ok;
        }));
        return command;
    }

    static Command CreateSample(Part2Kind kind)
    {
        var model = ModelOption(kind);
        var data = CommonOptions.DataOption();
        var count = CommonOptions.CountOption(32);
        var seed = CommonOptions.SeedOption();
        var output = CommonOptions.OutOption("samples");
        var json = CommonOptions.JsonOption();
        string how = kind == Part2Kind.Vae
            ? "decode z ~ N(0, I), clipped to [0, 1]"
            : "decode Gaussian latents with the training latents' per-element mean and std (the post's baseline), clipped to [0, 1]";
        var command = new Command("sample", $"Generate digits with the {Noun(kind)}: {how}.") { model, count, seed, output, json };
        if (kind == Part2Kind.Autoencoder) command.Options.Add(data);
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            string path = CliApp.RequireFile(parse.GetValue(model), "model");
            string dest = parse.GetValue(output)!;
            CommonOptions.RequireOutput(dest, n);
            long s = parse.GetValue(seed);
            Tensor images;
            if (kind == Part2Kind.Vae)
            {
                using Vae vae = ModelFile.LoadVae(path);
                images = Part2Sampling.VaeSamples(vae, n, s);
            }
            else
            {
                using ConvAutoencoder ae = ModelFile.LoadAutoencoder(path);
                MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);
                using Tensor train = mnist.Train.ToInputs();
                (Tensor mean, Tensor std) = Part2Sampling.LatentStatistics(ae, train);
                using (mean)
                using (std)
                    images = Part2Sampling.AutoencoderSamples(ae, mean, std, n, s);
            }
            using (images)
            {
                string what = ImageOutput.Write(images, dest, mnistLayout: ImageOutput.IsMnistLayout(ModelFile.ReadData(path)));
                CliApp.Out.MarkupLineInterpolated($"Wrote {dest}: {what} ({Noun(kind)} {path}, seed {s}).");
                if (parse.GetValue(json)) CliApp.WriteJson(new { model = path, count = n, seed = s, output = dest, kind = ImageOutput.Kind(dest) });
            }
            return CliApp.Ok;
        }));
        return command;
    }

    static Command CreateReconstruct(Part2Kind kind)
    {
        var model = ModelOption(kind);
        var data = CommonOptions.DataOption();
        var count = CommonOptions.CountOption(8);
        var seed = CommonOptions.SeedOption();
        var output = CommonOptions.OutOption("originals and reconstructions");
        var json = CommonOptions.JsonOption();
        var command = new Command("reconstruct", $"Encode and decode the first N test images with the {Noun(kind)}; writes originals (first half) then reconstructions.")
        {
            model, data, count, seed, output, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            string path = CliApp.RequireFile(parse.GetValue(model), "model");
            string dest = parse.GetValue(output)!;
            CommonOptions.RequireOutput(dest, 2L * n, gridColumns: n);
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);
            if (n > mnist.Test.Count) throw new UsageException($"-n {n} is more than the {mnist.Test.Count} test images");
            using Tensor test = mnist.Test.ToInputs();
            using Tensor originals = test.narrow(0, 0, n);
            using Tensor reconstructions = kind == Part2Kind.Vae
                ? ReconstructVae(path, originals, parse.GetValue(seed))
                : ReconstructAe(path, originals);
            using Tensor both = cat([originals, reconstructions], 0);
            string what = ImageOutput.Write(both, dest, gridColumns: n, mnistLayout: ImageOutput.IsMnistLayout(ModelFile.ReadData(path)));
            CliApp.Out.MarkupLineInterpolated($"Wrote {dest}: {what}: {n} originals, then their reconstructions.");
            if (parse.GetValue(json)) CliApp.WriteJson(new { model = path, count = n, output = dest });
            return CliApp.Ok;
        }));
        return command;
    }

    static Tensor ReconstructVae(string path, Tensor images, long seed)
    {
        using Vae vae = ModelFile.LoadVae(path);
        return Part2Sampling.VaeReconstructions(vae, images, seed);
    }

    static Tensor ReconstructAe(string path, Tensor images)
    {
        using ConvAutoencoder ae = ModelFile.LoadAutoencoder(path);
        return Part2Sampling.AutoencoderReconstructions(ae, images);
    }

    static Command CreateExport(Part2Kind kind)
    {
        var model = ModelOption(kind);
        var to = new Option<string>("--to") { Description = "Destination: .pt (PyTorch state_dict, loads into python/ldm_modules.py) or .safetensors.", Required = true };
        var command = new Command("export", $"Convert {Noun(kind)} weights between .safetensors and PyTorch .pt.") { model, to };
        command.SetAction(CliApp.Action(parse =>
        {
            string path = CliApp.RequireFile(parse.GetValue(model), "model");
            string dest = parse.GetValue(to)!;
            if (!dest.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) && !dest.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOptionException($"--to {dest}: the extension must be .pt or .safetensors");
            using nn.Module module = Load(kind, path);
            (string? architecture, string? settings) = ModelFile.ReadHeader(path);
            var metadata = settings is null ? null : new Dictionary<string, string> { ["format"] = "pt", ["architecture"] = architecture!, ["config"] = settings };
            ModelWeights.Save(module, dest, metadata);
            CliApp.Out.MarkupLineInterpolated($"Wrote {dest} ({module.parameters().Sum(p => p.numel())} parameters).");
            return CliApp.Ok;
        }));
        return command;
    }

    public static void PrintTrained(IReadOnlyList<EpochLog> history, double seconds, string run, bool json, long parameters)
    {
        EpochLog last = history[^1];
        string metrics = string.Join(", ", last.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:F3}")));
        CliApp.Out.MarkupLineInterpolated($"Trained {last.Epoch} epochs in {seconds:F0} s: train loss {last.TrainLoss:F3}, validation loss [bold]{last.ValLoss:F3}[/] ({metrics}). {parameters} parameters.");
        CliApp.Out.MarkupLineInterpolated($"Model: {Path.Combine(run, RunDirectory.ModelFileName)}  History: {Path.Combine(run, TrainingHistory.CsvName)}");
        if (json)
            CliApp.WriteJson(new { model = Path.Combine(run, RunDirectory.ModelFileName), parameters, training_seconds = seconds, history });
    }
}
