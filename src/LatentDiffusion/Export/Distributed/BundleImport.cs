using System.Globalization;
using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Export.Distributed;

/// <summary>What <see cref="BundleImport.Import"/> wrote: the model file (and the raw weights beside it, with an EMA) and how far the run had got.</summary>
public sealed record ImportResult(BundleKind Kind, string ModelPath, string? RawModelPath, long Steps, long TotalSteps, int LoggedEpochs, bool Partial);

/// <summary>
/// <c>ldm distributed import</c>: the weights python/ldm_train_ddp.py trained from a bundle, brought home as a run
/// directory of ours — <see cref="RunDirectory.ModelFileName"/> (and <see cref="RunDirectory.RawModelFileName"/> with an
/// EMA) with the metadata our trainer writes, config.json and the history — so every command that takes our weights
/// takes them unchanged. The weights must fit the bundle's model strictly (names, shapes, dtypes) and load back through
/// <see cref="ModelFile"/>'s config checks. An unfinished run is refused unless <c>partial</c> asks for its last
/// checkpoint's weights.
/// </summary>
public static class BundleImport
{
    /// <summary>Written by the trainer at the end of a run: <c>{"bundle_id", "steps", "world_size", "seconds"}</c>.</summary>
    public const string FinishedFileName = "finished.json";

    /// <summary>The weights the trainer would save, written with every checkpoint (metadata <c>step</c>).</summary>
    public const string LastFileName = "last.safetensors";

    public static ImportResult Import(string bundle, string outDir, bool partial = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        BundleSpec spec = BundleSpec.Read(bundle);
        string run = Path.Combine(bundle, BundleSpec.RunFolder);
        string finished = Path.Combine(run, FinishedFileName);
        string source;
        long steps;
        bool isPartial = !File.Exists(finished);
        if (!isPartial)
        {
            steps = ReadFinished(finished, spec);
            source = Path.Combine(run, RunDirectory.ModelFileName);
        }
        else
        {
            source = Path.Combine(run, LastFileName);
            if (!File.Exists(source))
                throw new DataFormatException(run, "no finished weights and no checkpoint yet; train the bundle first (" + BundlePreparation.Command(bundle) + ")");
            steps = CheckpointStep(source);
            if (!partial)
                throw new DataFormatException(run, $"the run is not finished (its last checkpoint is at step {steps} of {spec.TotalSteps}); " +
                    "finish it with the same torchrun command, or import that checkpoint's weights with --partial");
        }

        var metadata = RunDirectory.Metadata(spec.Architecture, spec.Settings, spec.Training);
        Directory.CreateDirectory(outDir);
        string modelPath = Path.Combine(outDir, RunDirectory.ModelFileName);
        Copy(spec, source, modelPath, metadata);
        string? rawPath = null;
        string rawSource = Path.Combine(run, RunDirectory.RawModelFileName);
        if (!isPartial && File.Exists(rawSource))
        {
            rawPath = Path.Combine(outDir, RunDirectory.RawModelFileName);
            Copy(spec, rawSource, rawPath, metadata);
        }
        AtomicFile.WriteAllText(Path.Combine(outDir, RunDirectory.ConfigFileName), RunDirectory.ConfigJson(spec.Training, spec.Architecture, spec.Settings));
        string historyPath = Path.Combine(run, TrainingHistory.JsonName);
        List<EpochLog> history = File.Exists(historyPath) ? TrainingHistory.Load(historyPath) : [];
        TrainingHistory.Save(outDir, history);
        RequireLoads(spec, modelPath);
        return new ImportResult(spec.Kind, modelPath, rawPath, steps, spec.TotalSteps, history.Count, isPartial);
    }

    /// <summary>A model of the bundle's architecture and settings, to check the trained weights against.</summary>
    static nn.Module CreateModel(BundleSpec spec) => spec.Kind switch
    {
        BundleKind.Classifier => new Classifier(),
        BundleKind.Vae => new Vae(Settings<VaeConfig>(spec)),
        BundleKind.Diffusion => new UNet(Settings<DiffusionConfig>(spec).UNet),
        _ => throw new DataFormatException(BundleSpec.FileName, $"unknown kind {spec.Kind}"),
    };

    static T Settings<T>(BundleSpec spec)
    {
        try { return JsonSerializer.Deserialize<T>(spec.Settings ?? "null") ?? throw new JsonException("no settings"); }
        catch (JsonException e) { throw new DataFormatException(BundleSpec.FileName, $"unreadable model settings ({e.Message})", e); }
    }

    /// <summary>Loads <paramref name="source"/> strictly into the bundle's model and saves it with our metadata.</summary>
    static void Copy(BundleSpec spec, string source, string destination, IReadOnlyDictionary<string, string> metadata)
    {
        using nn.Module model = CreateModel(spec);
        ModelWeights.Load(model, source);
        model.eval();
        ModelWeights.Save(model, destination, metadata);
    }

    /// <summary>The imported file through the loader every command uses, so its recorded config is checked as theirs is.</summary>
    static void RequireLoads(BundleSpec spec, string modelPath)
    {
        switch (spec.Kind)
        {
            case BundleKind.Classifier: ModelFile.LoadClassifier(modelPath).Dispose(); break;
            case BundleKind.Vae: ModelFile.LoadVae(modelPath).Dispose(); break;
            case BundleKind.Diffusion: ModelFile.LoadDiffusion(modelPath).Model.Dispose(); break;
        }
    }

    static long ReadFinished(string path, BundleSpec spec)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            string? id = document.RootElement.TryGetProperty("bundle_id", out var i) ? i.GetString() : null;
            if (id != spec.Id) throw new DataFormatException(path, $"belongs to another bundle (id {id}, this bundle is {spec.Id})");
            long steps = document.RootElement.GetProperty("steps").GetInt64();
            if (steps != spec.TotalSteps) throw new DataFormatException(path, $"records {steps} steps; the bundle's recipe has {spec.TotalSteps}");
            return steps;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new DataFormatException(path, $"unreadable ({e.Message})", e);
        }
    }

    static long CheckpointStep(string path)
    {
        (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) = Safetensors.Load(path);
        foreach (Tensor t in tensors.Values) t.Dispose();
        return metadata.TryGetValue("step", out string? s) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long step) ? step
            : throw new DataFormatException(path, "records no step; not written by ldm_train_ddp.py");
    }
}
