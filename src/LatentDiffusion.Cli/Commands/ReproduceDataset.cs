using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Experiments;
using LatentDiffusion.Reports;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary>
/// <c>ldm reproduce fashion-mnist</c> (the shipped models/fashion-mnist/) and <c>ldm reproduce dataset --models DIR</c>
/// (any model set, e.g. one <c>ldm pipeline</c> made): the series' FID table for that dataset and its report.
/// </summary>
public static class ReproduceDataset
{
    public static Command CreateFashionMnist() => Create("fashion-mnist",
        "Fashion-MNIST from the shipped models/fashion-mnist/: the FID table (Validation, Random, latent VAE reconstructions, the conditional generator unguided and guided), the per-class readings, the grid, the report.",
        Defaults.ModelSet(IdxDatasetKind.FashionMnistName), IdxDatasetKind.FashionMnistName, "runs/reproduce/fashion-mnist");

    public static Command CreateAny() => Create("dataset",
        "Any dataset's model set (classifier, latent VAE, conditional generator; e.g. what ldm pipeline published): its FID table, per-class readings, grid and report.",
        null, null, "runs/reproduce/dataset");

    static Command Create(string name, string description, string? defaultModels, string? defaultData, string defaultOut)
    {
        var models = new Option<string>("--models")
        {
            Description = "The model set: a folder with classifier.safetensors, latent-vae.safetensors and conditional.safetensors." + (defaultModels is null ? "" : $" Default: {defaultModels}."),
            Required = defaultModels is null,
        };
        if (defaultModels is not null) models.DefaultValueFactory = _ => defaultModels;
        var data = new Option<string?>("--data", "--dataset")
        {
            Description = "The data the models were trained on (a name, an IDX directory or an image folder)." +
                          (defaultData is null ? " Default: the folder the generator records." : $" Default: {defaultData}."),
        };
        var count = CommonOptions.CountOption(10_000);
        count.Description = "Samples per generator row, balanced over the classes.";
        var seed = CommonOptions.SeedOption();
        var outDir = new Option<string>("--out") { Description = "Report directory.", DefaultValueFactory = _ => defaultOut };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip and count images that cannot be decoded instead of failing on the first." };
        var json = CommonOptions.JsonOption();
        var command = new Command(name, description) { models, data, count, seed, outDir, skipBad, json };
        command.SetAction(CliApp.Action(parse =>
        {
            int n = CommonOptions.RequireCount(parse.GetValue(count));
            ModelSet set = ModelSet.Open(parse.GetValue(models)!);
            DatasetInfo? recorded = set.RecordedData;
            string spec = parse.GetValue(data) ?? defaultData ?? recorded?.Source
                ?? throw new InvalidOptionException($"--data: {set.GeneratorPath} records no data; name the data it was trained on");
            var options = new DatasetOptions { Resolution = recorded?.Resolution ?? 32, Channels = recorded?.Channels, SkipBad = parse.GetValue(skipBad) };
            ImageDataset dataset = CommonOptions.LoadDataset(spec, options);
            string outPath = parse.GetValue(outDir)!;
            DatasetReproductionResult result = DatasetReproduction.Run(new DatasetReproductionInputs(set, dataset, outPath) { Count = n, Seed = parse.GetValue(seed) },
                ConsoleProgress.Instance);
            Print(result);
            CliApp.Out.MarkupLineInterpolated($"Report: [bold]{result.Report!.IndexPath}[/] (also {result.Report.MarkdownPath}, {result.Report.JsonPath}).");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    data = result.Data.Name, models = set.Directory, count = n, seed = parse.GetValue(seed), classifier_test_accuracy = result.ClassifierAccuracy,
                    rows = result.Rows.Select(r => new
                    {
                        name = r.Name, fid = r.Fid, ratio_to_validation = r.RatioToValidation, precision = r.Manifold?.Precision, recall = r.Manifold?.Recall,
                        density = r.Manifold?.Density, coverage = r.Manifold?.Coverage, memorised_fraction = r.MemorisedFraction,
                    }),
                    classes = result.Classes.Select(c => new { name = c.Name, generated = c.Generated, real = c.Real }),
                    report = result.Report.IndexPath,
                });
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>The table and the per-class readings, as <c>reproduce fashion-mnist</c> and <c>pipeline</c> print them.</summary>
    internal static void Print(DatasetReproductionResult result)
    {
        static string F(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("F3", CultureInfo.InvariantCulture) : "-";
        static string P(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("F1", CultureInfo.InvariantCulture) + " %";
        var table = new Table().Title($"{result.Data.Name}: FID against the training images (this dataset's classifier, {P(result.ClassifierAccuracy)} test accuracy)");
        foreach (string h in new[] { "row", "FID", "x Validation", "precision", "recall", "density", "coverage", "memorised" }) table.AddColumn(h);
        foreach (DatasetRow r in result.Rows)
            table.AddRow(Markup.Escape(r.Name), F(r.Fid), r.RatioToValidation.ToString("F2", CultureInfo.InvariantCulture) + "x", F(r.Manifold?.Precision), F(r.Manifold?.Recall),
                F(r.Manifold?.Density), F(r.Manifold?.Coverage), r.MemorisedFraction is double m ? P(m) : "-");
        CliApp.Out.Write(table);
        var classes = new Table().Title("Read as asked (guided samples) against the classifier on the real test images");
        foreach (string h in new[] { "class", "generated", "real", "difference" }) classes.AddColumn(h);
        foreach (ClassReading c in result.Classes)
            classes.AddRow(Markup.Escape($"{c.Class} {c.Name}"), P(c.Generated), P(c.Real), double.IsNaN(c.Gap) ? "-" : (100 * c.Gap).ToString("+0.0;-0.0", CultureInfo.InvariantCulture));
        CliApp.Out.Write(classes);
    }
}
