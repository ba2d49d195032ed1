using System.CommandLine;
using LatentDiffusion.Reports;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm classifier report</c>: the part-1 post reproduced as figures, normality.csv, index.html and report.md.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var model = ClassifierCommand.ModelOption();
        var history = new Option<string?>("--history")
        {
            Description = "Training history (history.json or its run directory) for loss.png. Default: history.json beside --model, if any.",
        };
        var data = CommonOptions.DataOption();
        var outDir = new Option<string>("--out") { Description = "Report directory (created if missing; files in it are replaced).", Required = true };
        var json = CommonOptions.JsonOption();
        var command = new Command("report", "Reproduce the part-1 post: figures, FID-feature normality and an HTML/Markdown report.")
        {
            model, history, data, outDir, json,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            string modelPath = CliApp.RequireFile(parse.GetValue(model), "model");
            string? historyPath = parse.GetValue(history);
            if (historyPath is not null && !File.Exists(historyPath) && !Directory.Exists(historyPath))
                throw new UsageException($"history {historyPath} does not exist");
            historyPath ??= BesideModel(modelPath);
            string dataDirectory = CommonOptions.IdxDirectory(parse.GetValue(data)!);
            string outDirectory = parse.GetValue(outDir)!;

            Part1ReportResult result = Part1Report.WriteFromFiles(modelPath, historyPath, dataDirectory, outDirectory, progress: new StepPrinter());

            var n = result.NormalitySummary;
            CliApp.Out.MarkupLineInterpolated($"Wrote {result.Figures.Count} figures, {FeatureNormality.CsvName}, {Part1Report.IndexName} and {Part1Report.MarkdownName} to [bold]{outDirectory}[/].");
            CliApp.Out.MarkupLineInterpolated(
                $"FID features: {n.SmallSkew}/{n.Features} with |skew| < {n.SkewThreshold}, {n.SmallKurtosis}/{n.Features} with |excess kurtosis| < {n.KurtosisThreshold}, median KS {n.MedianKs:F4}.");
            foreach (string note in result.Notes) CliApp.Err.MarkupLineInterpolated($"[yellow]note:[/] {note}");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    @out = outDirectory,
                    index = result.IndexPath,
                    markdown = result.MarkdownPath,
                    model = modelPath,
                    history = historyPath,
                    figures = result.Figures.Select(f => f.FileName).ToArray(),
                    misclassified = result.Misclassified,
                    normality = n,
                    notes = result.Notes,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>history.json in the model's directory (a training run writes both there), or null.</summary>
    static string? BesideModel(string modelPath)
    {
        string candidate = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, TrainingHistory.JsonName);
        return File.Exists(candidate) ? candidate : null;
    }

    /// <summary>Prints each step on stderr at once (<see cref="Progress{T}"/> would post to the thread pool and print late).</summary>
    sealed class StepPrinter : IProgress<string>
    {
        public void Report(string value) => CliApp.Err.MarkupLineInterpolated($"[grey]report: {value}[/]");
    }
}
