using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;

namespace LatentDiffusion.Server;

/// <summary>
/// The diffusion models one folder holds, as the server offers them: every *.safetensors whose metadata records a UNet
/// (the raw twins of EMA runs, *.raw.safetensors, are left out), loaded once and kept, looked at again when a file
/// appears, changes or goes. Models land while the server runs, so <see cref="List"/> rescans the folder each time
/// (a directory listing and a stat per file; only new or changed files are read). One VAE decodes the folder's models'
/// latents and one classifier reads their images; both are loaded here, and a classifier that cannot read the VAE's
/// images is refused in one line.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    readonly string directory;
    readonly string vaePath;
    readonly string idPrefix;
    readonly object gate = new();
    readonly Dictionary<string, ModelEntry> known = new(StringComparer.Ordinal);

    public ModelFolder(ServedFolder served, string idPrefix)
    {
        directory = served.Directory;
        vaePath = served.VaePath;
        this.idPrefix = idPrefix;
        Served = served;
        Vae = ModelFile.LoadVae(vaePath);
        try
        {
            Classifier = ModelFile.LoadClassifier(served.ClassifierPath);
            ClassifierConfig reads = Classifier.Config;
            VaeConfig makes = Vae.Config;
            if (reads.Channels != makes.Channels || reads.Resolution != makes.Side)
                throw new DataFormatException(served.ClassifierPath,
                    $"the classifier reads {reads.Channels}x{reads.Resolution}x{reads.Resolution} images but the VAE {vaePath} makes {makes.Channels}x{makes.Side}x{makes.Side}; give the classifier trained on the same data");
            Data = ModelFile.ReadData(vaePath) ?? ModelFile.ReadData(served.ClassifierPath);
        }
        catch
        {
            Vae.Dispose();
            Classifier?.Dispose();
            throw;
        }
    }

    public ServedFolder Served { get; }

    /// <summary>What the folder's model ids start with: "" for the first folder, "NAME/" for the others.</summary>
    public string IdPrefix => idPrefix;

    public Vae Vae { get; }

    public Classifier Classifier { get; }

    /// <summary>The data the VAE (else the classifier) records having been trained on; null for models/ (MNIST, recorded by nothing).</summary>
    public DatasetInfo? Data { get; }

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

    ModelEntry Read(string file, FileInfo info)
    {
        string id = idPrefix + Path.GetFileName(file)[..^".safetensors".Length];
        ModelEntry Unusable(string? architecture, DiffusionConfig? config, string problem) =>
            new(id, file, info.Length, info.LastWriteTimeUtc, architecture, null, config, problem, null, this);
        string? architecture;
        try
        {
            (architecture, _) = ModelFile.ReadHeader(file);
        }
        catch (Exception e) when (e is DataFormatException or IOException)
        {
            return Unusable(nameof(UNet), null, e.Message);
        }
        if (architecture != nameof(UNet)) return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, architecture, null, null, null, null, this);
        try
        {
            DatasetInfo? data = ModelFile.ReadData(file);
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(file);
            try
            {
                ModelFile.RequireFits(config, file, Vae, vaePath);
                VaeConfig makes = Vae.Config;
                if (data is not null && (data.Channels != makes.Channels || data.Resolution != makes.Side))
                    throw new DataFormatException(file, $"trained on {data.Describe()} but the VAE {vaePath} makes {makes.Channels}x{makes.Side}x{makes.Side} images; use the VAE the model was trained with");
            }
            catch (DataFormatException e)
            {
                unet.Dispose();
                return Unusable(architecture, config, e.Message);
            }
            return new ModelEntry(id, file, info.Length, info.LastWriteTimeUtc, architecture, unet, config, null, data, this);
        }
        catch (Exception e) when (e is DataFormatException or IOException or ArgumentException)
        {
            return Unusable(architecture, null, e.Message);
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
