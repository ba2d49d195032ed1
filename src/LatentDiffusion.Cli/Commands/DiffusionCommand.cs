using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Reports;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm diffusion train | sample</c>: part 3's latent diffusion model.</summary>
public static class DiffusionCommand
{
    public static Command Create()
    {
        var command = new Command("diffusion", "Train and sample part 3's latent diffusion model (DDPM in the VAE's latent space).");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateSample());
        command.Subcommands.Add(DistillCommand.Create());
        command.Subcommands.Add(SetGuidanceCommand.Create());
        return command;
    }

    static Command CreateTrain()
    {
        var defaults = Recipes.DiffusionTrainingDefaults;
        var options = new TrainingOptions(defaults, "runs/diffusion");
        var model = new DiffusionModelOptions();
        var dataOptions = new DataOptions(resolution: false);
        var json = CommonOptions.JsonOption();
        var command = new Command("train", "Encode MNIST once with the VAE (one z = μ + σ·ε per image), then train the UNet: to predict the noise (ε-MSE, t uniform in 1..T, linear β schedule), or with --objective iadb to predict x1 − x0 (α ~ U[0, 1)).");
        options.AddTo(command);
        model.AddTo(command);
        dataOptions.AddTo(command);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults);
            double[] sweep = options.Sweep(parse);
            DiffusionChoice choice = model.Read(parse);
            Device device = options.TrainingDevice(parse);
            int side;
            using (Vae vae = ModelFile.LoadVae(choice.VaePath)) side = vae.Config.Side;   // the data is brought to the VAE's side
            ImageDataset dataset = CommonOptions.LoadDataset(parse.GetValue(options.Data)!, dataOptions.Read(parse, resolution: side));
            CliApp.Err.MarkupLine("[grey]Encoding the training and test images (one latent sample each)…[/]");
            using var latents = LatentSet.Encode(choice.VaePath, dataset, config.Seed);
            DiffusionConfig diffusion = choice.Config(latents);
            PrintLatents(latents, diffusion);
            using Tensor trainOnDevice = latents.Train.to(device), testOnDevice = latents.Test.to(device);   // aliases on the CPU
            using Tensor? trainLabels = choice.Conditional ? latents.TrainLabels.to(device) : null;
            using Tensor? testLabels = choice.Conditional ? latents.TestLabels.to(device) : null;
            using var task = new DiffusionTask(trainOnDevice, testOnDevice, diffusion, trainLabels, testLabels, latents.Data);
            string run = parse.GetValue(options.Out)!;
            using TrainingResult<UNet> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<UNet>(config, observer, device) { EmaSweep = sweep }.Train(task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>The latents' statistics and the scale chosen, on stderr.</summary>
    internal static void PrintLatents(LatentSet latents, DiffusionConfig diffusion) =>
        CliApp.Err.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]Latents ({string.Join("x", latents.Train.shape.Skip(1))}): std {latents.Train.std().item<float>():F3}, scale {diffusion.LatentScale:F4}, range ±{diffusion.LatentRange:F2} after scaling.[/]");

    /// <summary>The sampler options of <c>diffusion sample</c> (and of commands that sample like it).</summary>
    internal sealed class SamplerOptions
    {
        public Option<string?> Sampler { get; } = new("--sampler")
        {
            Description = "The sampler: " + string.Join("; ", Samplers.All.Select(s => $"{s.Name}: {s.Summary}")) +
                ". Default: the one the model's post samples with (ddpm for an ε-model, iadb for an α-model).",
        };
        public Option<int?> Steps { get; } = new("--steps") { Description = "Sampling steps S (default: the sampler's — all T for ddpm, 50 for the others, at most T for ddim)." };
        public Option<double> Eta { get; } = new("--eta") { Description = $"DDIM's η in [0, {Ddim.MaxEta}]: 0 deterministic (default), 1 with S = T is DDPM.", DefaultValueFactory = _ => 0.0 };
        public Option<bool> Heun { get; } = new("--heun") { Description = "Deprecated: the same as --sampler heun (α-deblending with second-order Heun steps)." };
        public Option<bool> Raw { get; } = new("--raw") { Description = "Use the raw weights saved beside the EMA ones (MODEL.raw.safetensors) instead of the EMA weights." };

        public SamplerOptions() => Sampler.AcceptOnlyFromAmong(Samplers.All.Select(s => s.Name).ToArray());

        public void AddTo(Command command)
        {
            foreach (Option o in new Option[] { Sampler, Steps, Eta, Heun, Raw }) command.Options.Add(o);
        }

        /// <summary>The options as <see cref="SamplingOptions"/> for <paramref name="config"/>'s model in <paramref name="modelPath"/>; a misfit is a usage error naming the file's kind.</summary>
        public SamplingOptions Read(ParseResult parse, DiffusionConfig config, string modelPath, SamplingOptions template)
        {
            ISampler? sampler = parse.GetValue(Sampler) is { } name ? Samplers.Find(name) : null;
            if (parse.GetValue(Heun))
                sampler = Samplers.WithHeun(sampler) ?? throw new InvalidOptionException($"--heun applies to α-deblending only; use --sampler {Samplers.AlphaHeun.Name} with an α-model");
            if (Ddim.EtaProblem(parse.GetValue(Eta), "--eta") is { } badEta) throw new InvalidOptionException(badEta);
            var options = template with { Sampler = sampler, Steps = parse.GetValue(Steps), Eta = parse.GetValue(Eta) };
            if (options.SamplerFor(config).StepsProblem(options.StepsFor(config), config) is { } steps)
                throw new InvalidOptionException($"--steps: {modelPath}: {steps}");
            if (options.Problem(config) is { } problem) throw new InvalidOptionException($"{modelPath}: {problem}");
            return options;
        }

        /// <summary>The model file (with --raw, its raw sibling) and the VAE file, both required to exist.</summary>
        public (string Model, string Vae) Files(ParseResult parse, Option<string> model, Option<string> vae)
        {
            string modelPath = CliApp.RequireFile(parse.GetValue(model), "model");
            return (CliApp.RequireFile(WeightsPath(parse, modelPath), "model"), CliApp.RequireFile(parse.GetValue(vae), "VAE"));
        }

        /// <summary>The weights file: <paramref name="path"/>, or with --raw its sibling X.raw.safetensors (which must exist).</summary>
        public string WeightsPath(ParseResult parse, string path)
        {
            if (!parse.GetValue(Raw)) return path;
            string raw = RunDirectory.RawWeightsPath(path);
            if (!File.Exists(raw)) throw new InvalidOptionException($"--raw: {path} has no raw weights beside it ({raw} does not exist; models trained without --ema have only one set)");
            return raw;
        }
    }


    static Command CreateSample()
    {
        var model = CommonOptions.DiffusionModelOption();
        var vae = CommonOptions.VaeOption("latent-vae.safetensors");
        var count = CommonOptions.CountOption(72);
        var seed = CommonOptions.SeedOption();
        var output = CommonOptions.OutOption("digits");
        var clip = new Option<bool>("--clip-x0") { Description = "Clamp the predicted x̂_0 to the training latents' range at every step (ε-models; not in the post)." };
        var batch = new Option<int>("--batch-size") { Description = "Latents sampled together (results depend on it).", DefaultValueFactory = _ => new SamplingOptions().BatchSize };
        var device = TrainingOptions.DeviceOption("Where the UNet and VAE run and the draws are made");
        var samplers = new SamplerOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("sample", "Generate digits: sample latents (DDPM over all T steps by default; DDIM or α-deblending in fewer), decode them with the VAE and clip to [0, 1].")
        {
            model, vae, count, seed, output, clip, batch, device, json,
        };
        samplers.AddTo(command);
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            int batchSize = CommonOptions.RequireCount(parse.GetValue(batch), "--batch-size");
            (string modelPath, string vaePath) = samplers.Files(parse, model, vae);
            string dest = parse.GetValue(output)!;
            CommonOptions.RequireOutput(dest, n);
            Device on = TrainingOptions.ParseDevice(parse, device);
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
            using (unet)
            using (Vae decoder = ModelFile.LoadVae(vaePath))
            {
                ModelFile.RequireFits(config, modelPath, decoder, vaePath);
                var options = samplers.Read(parse, config, modelPath, new SamplingOptions { BatchSize = batchSize, ClipX0 = parse.GetValue(clip), Device = on });
                if (options.ClipX0 && config.Objective != DiffusionObjective.Epsilon) throw new InvalidOptionException($"--clip-x0: {modelPath} is {config.KindName}; --clip-x0 applies to ε-models only");
                if (options.ClipX0 && config.LatentRange is null) throw new InvalidOptionException($"--clip-x0: {modelPath} records no latent range; sample without --clip-x0");
                if (config.VaeSha256 is { } sha && !VaeLineage.SharesLatents(sha, vaePath))
                    CliApp.Err.MarkupLineInterpolated($"[yellow]warning:[/] {modelPath} was trained on the latents of another VAE (sha256 {sha[..12]}), not {vaePath}");
                var watch = System.Diagnostics.Stopwatch.StartNew();
                unet.to(on);
                decoder.to(on);
                string how = options.Describe(config);
                using LatentSamples samples = ConsoleProgress.Run($"sampling {n} digits, {how}", p =>
                    LatentDiffusionSampler.Generate(unet, config, decoder, n, parse.GetValue(seed), options, p));
                string what = ImageOutput.Write(samples.Images, dest, mnistLayout: ImageOutput.IsMnistLayout(ModelFile.ReadData(modelPath)));
                CliApp.Out.MarkupLineInterpolated($"Wrote {dest}: {what} in {watch.Elapsed.TotalSeconds:F1} s ({how}, {options.EvaluationsFor(config)} network evaluations, seed {parse.GetValue(seed)}).");
                if (parse.GetValue(json))
                    CliApp.WriteJson(new
                    {
                        model = modelPath, vae = vaePath, count = n, seed = parse.GetValue(seed),
                        sampler = options.SamplerFor(config).Name, steps = options.StepsFor(config), eta = options.Eta,
                        evaluations = options.EvaluationsFor(config), seconds = watch.Elapsed.TotalSeconds, output = dest,
                    });
            }
            return CliApp.Ok;
        }));
        return command;
    }
}
