using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Generation;
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
    /// <summary>Part 3's training defaults: the post's loop (Adam, validation every 10 epochs); rate, batch and epochs are not stated in the post.</summary>
    public static TrainingConfig TrainingDefaults { get; } = new() { Epochs = 200, BatchSize = 128, LearningRate = 1e-3 };

    public static Command Create()
    {
        var command = new Command("diffusion", "Train and sample part 3's latent diffusion model (DDPM in the VAE's latent space).");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateSample());
        return command;
    }

    internal static Option<string> ModelOption() => new("--model")
    {
        Description = "Diffusion model weights (.safetensors). Default: the shipped models/diffusion.safetensors.",
        DefaultValueFactory = _ => Defaults.Model("diffusion.safetensors"),
    };

    internal static Option<string> VaeOption(string file = "vae.safetensors") => new("--vae")
    {
        Description = $"The VAE whose latent space the model works in. Default: the shipped models/{file}.",
        DefaultValueFactory = _ => Defaults.Model(file),
    };

    static Command CreateTrain()
    {
        var defaults = TrainingDefaults;
        var options = new TrainingOptions(defaults, "runs/diffusion");
        var vae = VaeOption();
        var widths = new Option<string>("--widths") { Description = "UNet channels per level, comma-separated (two levels fit a 4x4 latent).", DefaultValueFactory = _ => string.Join(",", new UNetConfig().Widths) };
        var ema = new Option<double>("--ema") { Description = "Decay of the weights' moving average that is validated and saved (0: off, the post).", DefaultValueFactory = _ => 0.0 };
        var scale = new Option<string>("--latent-scale") { Description = "Multiply latents by this before diffusion; 'auto' = 1/std of the training latents (the post: 1).", DefaultValueFactory = _ => "1" };
        var inputSkip = new Option<bool>("--input-skip") { Description = "Give the UNet's output a time-gated path from x_t (beyond the post; see UNetConfig.InputSkip)." };
        var steps = new Option<int>("--steps") { Description = "T, the number of diffusion steps (the post: 1000); sampling walks all of them.", DefaultValueFactory = _ => new DiffusionConfig().Steps };
        var json = ClassifierCommand.JsonOption();
        var command = new Command("train", "Encode MNIST once with the VAE (one z = μ + σ·ε per image), then train the UNet to predict the noise (ε-MSE, t uniform in 1..T, linear β schedule).");
        options.AddTo(command);
        foreach (Option o in new Option[] { vae, widths, ema, scale, steps, inputSkip, json }) command.Options.Add(o);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults) with { EmaDecay = parse.GetValue(ema) };
            try { config.Validate(); } catch (ArgumentOutOfRangeException) { throw new InvalidOptionException($"--ema must be in [0, 1) (got {config.EmaDecay})"); }
            int[] w = ParseWidths(parse.GetValue(widths)!);
            int t = parse.GetValue(steps);
            if (t < 2) throw new InvalidOptionException($"--steps must be at least 2 (got {t})");
            Device device = options.TrainingDevice(parse);
            string vaePath = CliApp.RequireFile(parse.GetValue(vae), "VAE");
            using Vae model = ModelFile.LoadVae(vaePath);
            MnistData mnist = ClassifierCommand.LoadData(parse.GetValue(options.Data)!);
            CliApp.Err.MarkupLine("[grey]Encoding the training and test images (one latent sample each)…[/]");
            using Tensor train = EncodeSplit(model, mnist.Train, config.Seed);
            using Tensor test = EncodeSplit(model, mnist.Test, config.Seed + 1);
            string scaleText = parse.GetValue(scale)!;
            double latentScale = scaleText == "auto"
                ? 1.0 / train.std().item<float>()
                : double.TryParse(scaleText, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v : throw new InvalidOptionException($"--latent-scale must be 'auto' or a positive number (got {scaleText})");
            var diffusion = new DiffusionConfig
            {
                UNet = new UNetConfig { LatentChannels = (int)model.LatentShape[0], Widths = w, InputSkip = parse.GetValue(inputSkip) },
                Steps = t,
                LatentScale = latentScale,
                LatentRange = train.abs().max().item<float>() * latentScale,
                VaeSha256 = ModelWeights.Sha256(vaePath),
            };
            CliApp.Err.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]Latents ({string.Join("x", train.shape.Skip(1))}): std {train.std().item<float>():F3}, scale {latentScale:F4}, range ±{diffusion.LatentRange:F2} after scaling.[/]");
            using Tensor trainOnDevice = train.to(device), testOnDevice = test.to(device);   // aliases on the CPU
            using var task = new DiffusionTask(trainOnDevice, testOnDevice, diffusion);
            string run = parse.GetValue(options.Out)!;
            using TrainingResult<UNet> result = SpectreTrainingObserver.Run(observer =>
                new Trainer<UNet>(config, observer, device).Train(task, run, parse.GetValue(options.Resume), CliApp.Stop.Token));
            Part2Commands.PrintTrained(result.History, result.TrainingSeconds, run, parse.GetValue(json), result.Model.ParameterCount());
            return CliApp.Ok;
        }));
        return command;
    }

    internal static Tensor EncodeSplit(Vae vae, MnistSplit split, long seed)
    {
        using Tensor images = split.ToInputs();
        return Latents.Encode(vae, images, seed);
    }

    static int[] ParseWidths(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0)
                throw new InvalidOptionException($"--widths must be positive integers separated by commas (got '{text}')");
        if (widths.Length is < 1 or > 2) throw new InvalidOptionException($"--widths: a 4x4 latent takes one or two levels (got {widths.Length})");
        return widths;
    }

    static Command CreateSample()
    {
        var model = ModelOption();
        var vae = VaeOption();
        var count = Part2Commands.CountOption(72);
        var seed = Part2Commands.SeedOption();
        var output = Part2Commands.OutOption("digits");
        var clip = new Option<bool>("--clip-x0") { Description = "Clamp the predicted x̂_0 to the training latents' range at every step (not in the post)." };
        var batch = new Option<int>("--batch-size") { Description = "Latents sampled together (results depend on it).", DefaultValueFactory = _ => new SamplingOptions().BatchSize };
        var device = TrainingOptions.DeviceOption("Where the UNet and VAE run and the draws are made");
        var json = ClassifierCommand.JsonOption();
        var command = new Command("sample", "Generate digits: DDPM ancestral sampling over all T steps from N(0, I), decoded by the VAE and clipped to [0, 1].")
        {
            model, vae, count, seed, output, clip, batch, device, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            int n = Part2Commands.RequireCount(parse.GetValue(count));
            int batchSize = Part2Commands.RequireCount(parse.GetValue(batch), "--batch-size");
            string modelPath = CliApp.RequireFile(parse.GetValue(model), "model");
            string vaePath = CliApp.RequireFile(parse.GetValue(vae), "VAE");
            string dest = parse.GetValue(output)!;
            Device on = TrainingOptions.ParseDevice(parse, device);
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
            using (unet)
            using (Vae decoder = ModelFile.LoadVae(vaePath))
            {
                ModelFile.RequireFits(config, modelPath, decoder, vaePath);
                if (config.VaeSha256 is { } sha && sha != ModelWeights.Sha256(vaePath))
                    CliApp.Err.MarkupLineInterpolated($"[yellow]warning:[/] {modelPath} was trained on the latents of another VAE (sha256 {sha[..12]}), not {vaePath}");
                var watch = System.Diagnostics.Stopwatch.StartNew();
                unet.to(on);
                decoder.to(on);
                var options = new SamplingOptions { BatchSize = batchSize, ClipX0 = parse.GetValue(clip), Device = on };
                if (options.ClipX0 && config.LatentRange is null) throw new UsageException($"{modelPath} records no latent range; sample without --clip-x0");
                using LatentSamples samples = WithProgress($"sampling {n} digits × {config.Steps} steps", p =>
                    LatentDiffusionSampler.Generate(unet, config, decoder, n, parse.GetValue(seed), options, p));
                string what = ImageOutput.Write(samples.Images, dest);
                CliApp.Out.MarkupLineInterpolated($"Wrote {dest}: {what} in {watch.Elapsed.TotalSeconds:F1} s ({config.Steps} DDPM steps, seed {parse.GetValue(seed)}).");
                if (parse.GetValue(json))
                    CliApp.WriteJson(new { model = modelPath, vae = vaePath, count = n, seed = parse.GetValue(seed), steps = config.Steps, seconds = watch.Elapsed.TotalSeconds, output = dest });
            }
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Runs <paramref name="body"/> with a progress bar on an interactive terminal (a line every 10 % otherwise), as a
    /// graceful section of <see cref="CliApp.Stop"/>: after SIGINT or SIGTERM the next progress report (one per sampling
    /// step) throws <see cref="OperationCanceledException"/>, before anything is written.
    /// </summary>
    internal static T WithProgress<T>(string description, Func<Action<long, long>, T> body)
    {
        using IDisposable graceful = CliApp.Stop.Graceful();
        CancellationToken stop = CliApp.Stop.Token;
        if (!CliApp.Err.Profile.Capabilities.Interactive || Console.IsErrorRedirected)
        {
            int lastDecile = -1;
            return body((done, total) =>
            {
                stop.ThrowIfCancellationRequested();
                int decile = (int)(10 * done / Math.Max(1, total));
                if (decile == lastDecile) return;
                lastDecile = decile;
                CliApp.Err.MarkupLineInterpolated($"[grey]{description}: {10 * decile} %[/]");
            });
        }
        T result = default!;
        CliApp.Err.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask(description, maxValue: 1);
                result = body((done, total) =>
                {
                    stop.ThrowIfCancellationRequested();
                    task.Value = (double)done / Math.Max(1, total);
                });
            });
        return result;
    }
}
