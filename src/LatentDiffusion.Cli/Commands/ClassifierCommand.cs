using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm classifier train | evaluate | export | report</c>.</summary>
public static class ClassifierCommand
{
    public static Command Create()
    {
        var command = new Command("classifier", "Train, evaluate and export the part-1 classifier (MNIST by default; any dataset with --data).");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateEvaluate());
        command.Subcommands.Add(CreateExport());
        command.Subcommands.Add(ReportCommand.Create());
        return command;
    }

    internal static Option<string> ModelOption() => new("--model")
    {
        Description = "Classifier weights (.safetensors or .pt). Default: the shipped models/classifier.safetensors.",
        DefaultValueFactory = _ => Defaults.ClassifierModel,
    };

    static Command CreateTrain()
    {
        var defaults = new TrainingConfig();
        var options = new TrainingOptions(defaults, "runs/classifier");
        var dataOptions = new DataOptions();
        var json = CommonOptions.JsonOption();
        var command = new Command("train", "Train the classifier with the blog's settings (Adam 1e-3, batch 256, 100 epochs), then evaluate it on the test set.");
        options.AddTo(command);
        dataOptions.AddTo(command);
        command.Options.Add(json);
        command.SetAction(CliApp.Action(parse =>
        {
            TrainingConfig config = options.Config(parse, defaults);
            double[] sweep = options.Sweep(parse);
            var device = options.TrainingDevice(parse);
            var data = options.Data;
            var outDir = options.Out;
            var resume = options.Resume;
            ImageDataset dataset = CommonOptions.LoadDataset(parse.GetValue(data)!, dataOptions.Read(parse));
            string run = parse.GetValue(outDir)!;
            TrainingResult<Classifier> result = SpectreTrainingObserver.Run(observer =>
                ClassifierTask.Train(config, dataset, run, parse.GetValue(resume), observer: observer, cancel: CliApp.Stop.Token, device: device, emaSweep: sweep));
            using Classifier model = result.Model;
            EvaluationResult eval = ClassifierEvaluation.Evaluate(model, dataset.Test);
            string modelPath = Path.Combine(run, RunDirectory.ModelFileName);
            CliApp.Out.MarkupLineInterpolated($"Trained {config.Epochs} epochs in {result.TrainingSeconds:F1} s; test accuracy [bold]{eval.Accuracy:P2}[/] ({eval.Correct}/{eval.Count}).");
            CliApp.Out.MarkupLineInterpolated($"Model: {modelPath}  History: {Path.Combine(run, TrainingHistory.CsvName)}");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    model = modelPath,
                    epochs = config.Epochs,
                    seed = config.Seed,
                    training_seconds = result.TrainingSeconds,
                    test_accuracy = eval.Accuracy,
                    history = result.History,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    static Command CreateEvaluate()
    {
        var model = ModelOption();
        var data = CommonOptions.DataOption();
        var dataOptions = new DataOptions(resolution: false);
        var json = CommonOptions.JsonOption();
        var command = new Command("evaluate", "Accuracy, per-class accuracy and confusion matrix on the test set (MNIST's 10k by default).") { model, data, json };
        dataOptions.AddTo(command);
        command.SetAction(CliApp.Action(parse =>
        {
            string path = CliApp.RequireFile(parse.GetValue(model), "model");
            using var classifier = ModelFile.LoadClassifier(path);
            ImageDataset dataset = CommonOptions.LoadDataset(parse.GetValue(data)!, dataOptions.Read(parse, resolution: classifier.Config.Resolution));
            if (DataMatch.ClassifierProblem(classifier.Config, ModelFile.ReadData(path), path, dataset.Info) is { } problem) throw new UsageException(problem);
            EvaluationResult eval = ClassifierEvaluation.Evaluate(classifier, dataset.Test);
            PrintEvaluation(eval, path);
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    model = path,
                    sha256 = ModelWeights.Sha256(path),
                    count = eval.Count,
                    accuracy = eval.Accuracy,
                    loss = eval.Loss,
                    per_class_accuracy = eval.PerClassAccuracy,
                    confusion = eval.Confusion,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    static Command CreateExport()
    {
        var model = ModelOption();
        var to = new Option<string>("--to") { Description = "Destination: .pt (PyTorch state_dict) or .safetensors.", Required = true };
        var command = new Command("export", "Convert classifier weights between .safetensors and PyTorch .pt.") { model, to };
        command.SetAction(CliApp.Action(parse =>
        {
            string path = CliApp.RequireFile(parse.GetValue(model), "model");
            string dest = parse.GetValue(to)!;
            if (!dest.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) && !dest.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOptionException($"--to {dest}: the extension must be .pt or .safetensors");
            using var classifier = ModelFile.LoadClassifier(path);
            ModelWeights.Save(classifier, dest);
            CliApp.Out.MarkupLineInterpolated($"Wrote {dest} ({classifier.ParameterCount()} parameters).");
            return CliApp.Ok;
        }));
        return command;
    }

    static void PrintEvaluation(EvaluationResult eval, string modelPath)
    {
        var console = CliApp.Out;
        console.MarkupLineInterpolated($"Model {modelPath}: test accuracy [bold]{eval.Accuracy:P2}[/] ({eval.Correct}/{eval.Count}), loss {eval.Loss:F4}");
        var table = new Table().Title("Confusion matrix (rows: true digit, columns: predicted)");
        table.AddColumn("true");
        for (int p = 0; p < eval.Confusion.Length; p++) table.AddColumn(new TableColumn(p.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("accuracy").RightAligned());
        for (int t = 0; t < eval.Confusion.Length; t++)
        {
            var cells = new List<string> { t.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(eval.Confusion[t].Select((c, p) => p == t ? $"[green]{c}[/]" : c == 0 ? "[grey]0[/]" : c.ToString(CultureInfo.InvariantCulture)));
            cells.Add(eval.PerClassAccuracy[t].ToString("P2", CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
    }
}
