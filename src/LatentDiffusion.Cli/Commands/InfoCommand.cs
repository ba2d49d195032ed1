using System.CommandLine;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm info</c>: the classifier's layer table and parameter count, the runtime it runs on, and where the shipped models and data were found.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Also load these weights and report their SHA-256." };
        var json = CommonOptions.JsonOption();
        var command = new Command("info", "Architecture and parameter count of a model file (default: the classifier's layer table).") { model, json };
        command.SetAction(CliApp.Action(parse =>
        {
            string? path = parse.GetValue(model);
            if (path is not null && ModelFile.ReadHeader(CliApp.RequireFile(path, "model")).Architecture is { } architecture && architecture != nameof(Classifier))
                return DescribeOther(path, architecture, parse.GetValue(json));
            using Classifier classifier = path is null ? new Classifier() : ModelFile.LoadClassifier(path);
            string? sha = path is null ? null : ModelWeights.Sha256(path);
            Data.DatasetInfo? trainedOn = path is null ? null : ModelFile.ReadData(path);
            var rows = Describe(classifier);
            long total = classifier.ParameterCount();
            var table = new Table().Title($"Classifier (part 1's architecture, reads {classifier.Config.Describe()})");
            table.AddColumn("index").AddColumn("layer").AddColumn("output shape").AddColumn(new TableColumn("parameters").RightAligned());
            foreach (var r in rows) table.AddRow(r.Index.ToString(), Markup.Escape(r.Layer), Markup.Escape(r.Output), r.Parameters.ToString());
            CliApp.Out.Write(table);
            CliApp.Out.MarkupLineInterpolated($"Total parameters: [bold]{total}[/]");
            CliApp.Out.MarkupLineInterpolated($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch threads {torch.get_num_threads()}, {Environment.ProcessorCount} cores");
            if (sha is not null) CliApp.Out.MarkupLineInterpolated($"Weights {path}: sha256 {sha}");
            PrintData(trainedOn);
            ShippedPath models = ShippedFiles.Locate(ShippedFiles.ModelsDirectory), data = ShippedFiles.Locate(ShippedFiles.DataDirectory);
            CliApp.Out.MarkupLineInterpolated($"Shipped models: {models.Describe()}");
            CliApp.Out.MarkupLineInterpolated($"Shipped data: {data.Describe()}");
            if (parse.GetValue(json))
                CliApp.WriteJson(new
                {
                    parameters = total, layers = rows, model = path, sha256 = sha, data = trainedOn, threads = torch.get_num_threads(),
                    shipped = new { models = models.Path, models_origin = Origin(models), data = data.Path, data_origin = Origin(data) },
                });
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>A part-2 or part-3 model: its architecture, recorded settings and parameter count.</summary>
    static int DescribeOther(string path, string architecture, bool json)
    {
        using nn.Module module = architecture switch
        {
            nameof(Vae) => ModelFile.LoadVae(path),
            nameof(ConvAutoencoder) => ModelFile.LoadAutoencoder(path),
            nameof(UNet) => ModelFile.LoadDiffusion(path).Model,
            _ => throw new DataFormatException(path, $"unknown architecture '{architecture}'"),
        };
        long parameters = module.parameters().Sum(p => p.numel());
        string? settings = ModelFile.ReadHeader(path).Settings;
        string sha = ModelWeights.Sha256(path);
        CliApp.Out.MarkupLineInterpolated($"{path}: [bold]{architecture}[/], {parameters} parameters, sha256 {sha[..12]}");
        if (settings is not null) CliApp.Out.WriteLine(settings);
        Data.DatasetInfo? data = ModelFile.ReadData(path);
        PrintData(data);
        if (json)
            CliApp.WriteJson(new { model = path, architecture, parameters, sha256 = sha, settings = settings is null ? (object?)null : System.Text.Json.JsonDocument.Parse(settings).RootElement, data });
        return CliApp.Ok;
    }

    /// <summary>The data a model records having been trained on (models trained before that was recorded: MNIST's shipped ones say nothing).</summary>
    static void PrintData(Data.DatasetInfo? data)
    {
        if (data is null) return;
        CliApp.Out.MarkupLineInterpolated($"Trained on {data.Describe()} from {data.Source}; classes: {string.Join(", ", data.ClassNames)}; split: {data.Split}");
    }

    /// <summary>"repository", "installation" or "missing".</summary>
    static string Origin(ShippedPath path) => path.Origin.ToString().ToLowerInvariant();

    public sealed record LayerRow(int Index, string Layer, string Output, long Parameters);

    /// <summary>Each layer with its output shape for one (1, C, S, S) input (the classifier's channels and side).</summary>
    public static List<LayerRow> Describe(Classifier classifier)
    {
        var rows = new List<LayerRow>();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        classifier.eval();
        Tensor h = zeros(1, classifier.Config.Channels, classifier.Config.Resolution, classifier.Config.Resolution);
        var layers = classifier.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = (nn.Module<Tensor, Tensor>)layers[i];
            h = layer.forward(h);
            long parameters = layer.parameters().Sum(p => p.numel());
            rows.Add(new LayerRow(i, Name(layer), "[" + string.Join(", ", h.shape.Skip(1)) + "]", parameters));
        }
        return rows;
    }

    static string Name(nn.Module module)
    {
        string name = module.GetType().Name;
        long[]? weight = module.parameters().FirstOrDefault()?.shape;
        return weight is null ? name : $"{name} [{string.Join("x", weight)}]";
    }
}
