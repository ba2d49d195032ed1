using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Reports;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm generate --digit D|all</c>: ask the class-conditional model for a digit, with classifier-free guidance.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var digit = new Option<string>("--digit") { Description = "The digit to generate (0-9), or 'all' for a balanced grid with one row per digit.", Required = true };
        var guidance = new Option<double?>("--guidance") { Description = $"Classifier-free guidance weight w in [0, {Guidance.MaxWeight}]: 0 unconditional, 1 conditional, > 1 more typical of the digit. Default: the weight the model records (ldm diffusion set-guidance), else {Recipes.Guidance.ToString(CultureInfo.InvariantCulture)}." };
        var count = CommonOptions.CountOption(10);
        count.Description = "Digits to generate (with --digit all: per digit).";
        var model = new Option<string>("--model") { Description = $"Class-conditional diffusion model. Default: the shipped models/{ShippedFiles.ConditionalFile}.", DefaultValueFactory = _ => Defaults.Model(ShippedFiles.ConditionalFile) };
        var vae = CommonOptions.VaeOption("latent-vae.safetensors");
        var seed = CommonOptions.SeedOption();
        var output = CommonOptions.OutOption("digits");
        var samplers = new DiffusionCommand.SamplerOptions();
        var grade = new Option<bool>("--grade") { Description = "Let the shipped classifier read the digits: the share labelled as asked and its mean confidence." };
        var classifierModel = new Option<string>("--classifier") { Description = "Classifier for --grade. Default: the shipped one.", DefaultValueFactory = _ => Defaults.ClassifierModel };
        var device = TrainingOptions.DeviceOption("Where the UNet and VAE run and the draws are made");
        var interval = CommonOptions.GuidanceIntervalOption();
        var json = CommonOptions.JsonOption();
        var command = new Command("generate", "Generate digits you ask for: class-conditional latent diffusion with classifier-free guidance, decoded by the VAE.")
        {
            digit, guidance, count, model, vae, seed, output, grade, classifierModel, device, json,
        };
        samplers.AddTo(command);
        command.Options.Add(interval);
        command.SetAction(CliApp.Action(parse =>
        {
            int[] digits = CommonOptions.ParseDigits(parse.GetValue(digit)!);
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            double? askedWeight = parse.GetValue(guidance);
            if (askedWeight is double given && Guidance.WeightProblem(given, "--guidance") is { } badWeight) throw new InvalidOptionException(badWeight);
            (string modelPath, string vaePath) = samplers.Files(parse, model, vae);
            string dest = parse.GetValue(output)!;
            CommonOptions.RequireOutput(dest, (long)n * digits.Length, digits.Length > 1 ? "-n (per digit, x10 with --digit all)" : "-n", digits.Length > 1 ? n : null);
            Device on = TrainingOptions.ParseDevice(parse, device);
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
            using (unet)
            using (Vae decoder = ModelFile.LoadVae(vaePath))
            {
                if (config.UNet.Classes == 0)
                    throw new InvalidOptionException($"{modelPath} is an unconditional model: it cannot be asked for a digit (train one with ldm diffusion train --conditional, or use ldm diffusion sample)");
                ModelFile.RequireFits(config, modelPath, decoder, vaePath);
                double w = askedWeight ?? config.DefaultGuidance;
                int[] labels = digits.SelectMany(d => Enumerable.Repeat(d, n)).ToArray();
                var options = samplers.Read(parse, config, modelPath, new SamplingOptions { Labels = labels, Guidance = w, GuidanceInterval = CommonOptions.ParseInterval(parse.GetValue(interval)), Device = on });
                unet.to(on);
                decoder.to(on);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                string how = $"{options.Describe(config)}, guidance {w.ToString(CultureInfo.InvariantCulture)}";
                using LatentSamples samples = ConsoleProgress.Run($"generating {labels.Length} digits, {how}", p =>
                    LatentDiffusionSampler.Generate(unet, config, decoder, labels.Length, parse.GetValue(seed), options, p));
                double seconds = watch.Elapsed.TotalSeconds;
                string what = ImageOutput.Write(samples.Images, dest, digits.Length > 1 ? n : null, ImageOutput.IsMnistLayout(ModelFile.ReadData(modelPath)));
                CliApp.Out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Wrote {dest}: {what} in {seconds:F1} s ({how}, seed {parse.GetValue(seed)}).");
                var grades = new List<object>();
                if (parse.GetValue(grade))
                {
                    using Classifier classifier = ModelFile.LoadClassifier(CliApp.RequireFile(parse.GetValue(classifierModel), "classifier"));
                    for (int i = 0; i < digits.Length; i++)
                    {
                        var asked = DigitReading.Read(classifier, samples.Images.narrow(0, (long)i * n, n)).Where(r => r.Label == digits[i]).ToList();
                        int correct = asked.Count;
                        double confidence = correct > 0 ? asked.Average(r => r.Confidence) : 0;
                        CliApp.Out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  digit {digits[i]}: {correct}/{n} read as {digits[i]} ({100.0 * correct / n:F1} %), their mean confidence {100 * confidence:F1} %");
                        grades.Add(new { digit = digits[i], count = n, correct, accuracy = (double)correct / n, mean_confidence = confidence });
                    }
                }
                if (parse.GetValue(json))
                    CliApp.WriteJson(new
                    {
                        model = modelPath, vae = vaePath, digits, count_per_digit = n, guidance = w, seed = parse.GetValue(seed),
                        sampler = options.SamplerFor(config).Name, steps = options.StepsFor(config), seconds, output = dest, grades,
                    });
            }
            return CliApp.Ok;
        }));
        return command;
    }
}
