using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Models;

namespace LatentDiffusion.Server;

/// <summary>
/// The diffusion models a folder holds, as the server offers them: every *.safetensors whose metadata records a UNet
/// (the raw twins of EMA runs, *.raw.safetensors, are left out), loaded once and kept, looked at again when a file
/// appears, changes or goes. Models land while the server runs, so <see cref="List"/> rescans the folder each time
/// (a directory listing and a stat per file; only new or changed files are read). One VAE decodes every model's
/// latents and part 1's classifier reads the digits; both are loaded at start, so a missing one stops the server
/// before it listens.
/// </summary>
public sealed class ModelCatalog : IDisposable
{
    readonly string directory;
    readonly string vaePath;
    readonly object gate = new();
    readonly Dictionary<string, ModelEntry> known = new(StringComparer.Ordinal);

    public ModelCatalog(string modelsDirectory, string vaePath, string classifierPath)
    {
        directory = modelsDirectory;
        this.vaePath = vaePath;
        Vae = ModelFile.LoadVae(vaePath);
        try
        {
            Classifier = ModelFile.LoadClassifier(classifierPath);
        }
        catch
        {
            Vae.Dispose();
            throw;
        }
    }

    public Vae Vae { get; }

    public Classifier Classifier { get; }

    /// <summary>
    /// The models now in the folder: distilled students first (the page's default: "instant"), then unconditional
    /// ε-models, α-deblending, class-conditional; by name within each.
    /// </summary>
    public IReadOnlyList<ModelEntry> List()
    {
        string[] files = Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.safetensors")
                .Where(f => !f.EndsWith(".raw.safetensors", StringComparison.Ordinal))
                .ToArray()
            : [];
        lock (gate)
        {
            foreach (string gone in known.Keys.Except(files).ToList()) known.Remove(gone);
            foreach (string file in files)
            {
                var info = new FileInfo(file);
                if (known.TryGetValue(file, out ModelEntry? entry) && entry.Length == info.Length && entry.Modified == info.LastWriteTimeUtc) continue;
                // A replaced model is not disposed: a generation may still be using it; the GC frees it after.
                known[file] = Read(file, info);
            }
            return known.Values.Where(e => e.Architecture == nameof(UNet))
                .OrderBy(e => e.Config?.Student is null).ThenBy(e => e.Config?.UNet.Classes > 0).ThenBy(e => e.Config?.Objective).ThenBy(e => e.Id, StringComparer.Ordinal)
                .ToList();
        }
    }

    /// <summary>The model called <paramref name="id"/> (its file name without .safetensors), or null.</summary>
    public ModelEntry? Find(string id) => List().FirstOrDefault(e => e.Id == id);

    ModelEntry Read(string file, FileInfo info)
    {
        string id = Path.GetFileName(file)[..^".safetensors".Length];
        string? architecture;
        try
        {
            (architecture, _) = ModelFile.ReadHeader(file);
        }
        catch (Exception e) when (e is DataFormatException or IOException)
        {
            return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, nameof(UNet), null, null, e.Message);
        }
        if (architecture != nameof(UNet)) return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, architecture, null, null, null);
        try
        {
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(file);
            try
            {
                ModelFile.RequireFits(config, file, Vae, vaePath);
            }
            catch (DataFormatException e)
            {
                unet.Dispose();
                return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, architecture, null, config, e.Message);
            }
            return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, architecture, unet, config, null);
        }
        catch (Exception e) when (e is DataFormatException or IOException or ArgumentException)
        {
            return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, architecture, null, null, e.Message);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (ModelEntry entry in known.Values) entry.Model?.Dispose();
            known.Clear();
        }
        Vae.Dispose();
        Classifier.Dispose();
    }
}

/// <summary>
/// One model file of the catalog: its id (the file name without .safetensors), the loaded UNet and its settings, or
/// why it cannot be used (<see cref="Problem"/>: unreadable, or its latents do not fit the VAE).
/// </summary>
public sealed record ModelEntry(string Id, string Path, long Length, DateTime Modified, string? Architecture, UNet? Model, DiffusionConfig? Config, string? Problem)
{
    public bool Conditional => Config?.UNet.Classes > 0;

    /// <summary>"epsilon" or "alpha-deblending".</summary>
    public string Kind => Config?.Objective == DiffusionObjective.AlphaDeblending ? "alpha-deblending" : "epsilon";

    /// <summary>The samplers that fit the model (<see cref="Sampling.Samplers.For"/>), the interactive default first (<see cref="Sampling.Samplers.Interactive"/>).</summary>
    public IReadOnlyList<ISampler> Samplers => Config is not { } c ? []
        : Sampling.Samplers.For(c).OrderBy(s => s == Sampling.Samplers.Interactive(c) ? 0 : 1).ToList();

    /// <summary>For people: e.g. "DDPM ε-model, T = 1000" or "class-conditional α-deblending model (10 classes)".</summary>
    public string Description => Config is not { } c ? "unusable"
        : c.Student is { } student ? $"instant: α-deblending student distilled for {student.StepsText()} steps"
        : (Conditional ? $"class-conditional " : "") +
          (c.Objective == DiffusionObjective.AlphaDeblending ? "α-deblending model" : $"DDPM ε-model, T = {c.Steps}") +
          (Conditional ? $" ({c.UNet.Classes} classes)" : "");
}
