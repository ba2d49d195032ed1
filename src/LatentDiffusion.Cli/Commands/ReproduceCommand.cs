using System.CommandLine;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm reproduce part1</c>: the whole of part 1 in one command — train the classifier with the blog's settings
/// (or reuse / resume the run in --out), evaluate it, compute the MNIST-FID baselines and write the report.
/// </summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var command = new Command("reproduce", "Reproduce the series end to end. Without a part: parts 1, 2 and 3 from the shipped weights (minutes); --train retrains everything (resumable).");
        var data = CommonOptions.DataOption();
        var train = new Option<bool>("--train") { Description = "Retrain every model with the shipped recipes instead of using the shipped weights (resumable; hours on 2 cores)." };
        var outDir = new Option<string>("--out") { Description = "Directory for the three parts' outputs (part1/, part2/, part3/).", DefaultValueFactory = _ => "runs/reproduce" };
        command.Options.Add(data);
        command.Options.Add(train);
        command.Options.Add(outDir);
        command.SetAction(parse =>
        {
            string root = parse.GetValue(outDir)!, dataDir = parse.GetValue(data)!;
            bool retrain = parse.GetValue(train);
            string[] part1 = retrain
                ? ["--data", dataDir, "--out", Path.Combine(root, "part1")]
                : ["--data", dataDir, "--out", Path.Combine(root, "part1"), "--model", Defaults.ClassifierModel, "--history", Defaults.Model("classifier.history.json")];
            string[] part2 = ["--data", dataDir, "--out", Path.Combine(root, "part2"), .. (retrain ? new[] { "--train" } : [])];
            string[] part3 = ["--data", dataDir, "--out", Path.Combine(root, "part3"), .. (retrain ? new[] { "--train" } : [])];
            foreach (var (name, sub, args) in new[] { ("part 1", CreatePart1(), part1), ("part 2", ReproducePart2.Create(), part2), ("part 3", ReproducePart3.Create(), part3) })
            {
                CliApp.Err.MarkupLineInterpolated($"[bold]── {name} ──[/]");
                int code = sub.Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false });
                if (code != CliApp.Ok) return code;
            }
            return CliApp.Ok;
        });
        command.Subcommands.Add(CreatePart1());
        command.Subcommands.Add(ReproducePart2.Create());
        command.Subcommands.Add(ReproducePart3.Create());
        command.Subcommands.Add(ReproduceConditional.Create());
        command.Subcommands.Add(ReproduceDataset.CreateFashionMnist());
        command.Subcommands.Add(ReproduceDataset.CreateAny());
        return command;
    }

    static Command CreatePart1()
    {
        var defaults = new TrainingConfig();
        var data = CommonOptions.DataOption();
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (blog: 100).", DefaultValueFactory = _ => defaults.Epochs };
        var seed = new Option<long>("--seed") { Description = "Training seed.", DefaultValueFactory = _ => defaults.Seed };
        var outDir = new Option<string>("--out") { Description = "Run directory: training files, model.safetensors and report/.", DefaultValueFactory = _ => "runs/part1" };
        var shipped = new Option<string?>("--model") { Description = "Use these weights (e.g. the shipped models/classifier.safetensors) instead of training." };
        var shippedHistory = new Option<string?>("--history") { Description = "With --model: the training history for the report's loss figure." };
        var json = CommonOptions.JsonOption();
        var command = new Command("part1", "Part 1: train the MNIST classifier (Adam 1e-3, batch 256, 100 epochs) or take --model, evaluate it, compute the FID baselines, write the report.")
        {
            data, epochs, seed, outDir, shipped, shippedHistory, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            var config = defaults with { Epochs = parse.GetValue(epochs), Seed = parse.GetValue(seed) };
            if (config.Epochs <= 0) throw new InvalidOptionException($"--epochs must be positive (got {config.Epochs})");
            string run = parse.GetValue(outDir)!;
            MnistData mnist = CommonOptions.LoadData(parse.GetValue(data)!);
            string modelPath = Path.Combine(run, RunDirectory.ModelFileName);

            Classifier model;
            IReadOnlyList<EpochLog> history;
            if (parse.GetValue(shipped) is { } given)
            {
                modelPath = CliApp.RequireFile(given, "model");
                model = ModelFile.LoadClassifier(modelPath);
                history = parse.GetValue(shippedHistory) is { } h ? TrainingHistory.Load(CliApp.RequireFile(h, "history")) : [];
            }
            else if (RunDirectory.IsFinished(run, config, nameof(Classifier), settings: null))
            {
                CliApp.Err.MarkupLineInterpolated($"[grey]Reusing the finished run in {run} (delete it to train again).[/]");
                model = ModelFile.LoadClassifier(modelPath);
                history = TrainingHistory.Load(run);
            }
            else
            {
                TrainingResult<Classifier> trained = SpectreTrainingObserver.Run(observer =>
                    ClassifierTask.Train(config, mnist.Train, mnist.Test, run, resume: true, observer: observer, cancel: CliApp.Stop.Token));
                model = trained.Model;
                history = trained.History;
            }

            using (model)
            {
                EvaluationResult eval = ClassifierEvaluation.Evaluate(model, mnist.Test);
                CliApp.Err.MarkupLine("[grey]Computing the FID baselines…[/]");
                FidBaselineResult baselines = FidBaselines.Compute(model, mnist);
                string sha = ModelWeights.Sha256(modelPath);

                string reportDir = Path.Combine(run, "report");
                var info = new ReportModelInfo(modelPath, sha, model.ParameterCount(), history.Count > 0 ? history[^1].Seconds : null);
                var inputs = new Part1ReportInputs(model, mnist, eval, info) { History = history, FidRows = baselines.Rows };
                Part1ReportResult report = Part1Report.Write(inputs, reportDir);

                CliApp.Out.MarkupLineInterpolated(
                    $"Test accuracy [bold]{eval.Accuracy:P2}[/] ({eval.Correct}/{eval.Count}); the blog reports {BlogPart1.TestAccuracy:P1}. {model.ParameterCount()} parameters.");
                FidCommand.PrintBaselines(baselines, sha, modelPath);
                CliApp.Out.MarkupLineInterpolated($"Report: [bold]{report.IndexPath}[/] ({report.Figures.Count} figures; also {report.MarkdownPath}).");
                if (parse.GetValue(json))
                    CliApp.WriteJson(new
                    {
                        model = modelPath,
                        sha256 = sha,
                        parameters = model.ParameterCount(),
                        test_accuracy = eval.Accuracy,
                        per_class_accuracy = eval.PerClassAccuracy,
                        training_seconds = history.Count > 0 ? history[^1].Seconds : (double?)null,
                        history,
                        fid_baselines = FidCommand.BaselinesJson(baselines, sha),
                        report = report.IndexPath,
                    });
            }
            return CliApp.Ok;
        }));
        return command;
    }
}
