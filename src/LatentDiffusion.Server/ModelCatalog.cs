using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.IO;
using LatentDiffusion.Models;

namespace LatentDiffusion.Server;

/// <summary>
/// The diffusion models the server offers: those of each <see cref="ModelSet"/>'s folder (<see cref="ModelFolder"/>),
/// the first folder's first. Every folder's VAE and classifier are loaded at start, so a missing or broken one stops
/// the server before it listens.
/// </summary>
public sealed class ModelCatalog : IDisposable
{
    readonly List<ModelFolder> folders = [];

    public ModelCatalog(IReadOnlyList<ModelSet> sets)
    {
        if (ModelSet.Problem(sets) is { } problem) throw new ArgumentException(problem, nameof(sets));
        try
        {
            for (int i = 0; i < sets.Count; i++) folders.Add(new ModelFolder(sets[i], sets[i].IdPrefix(i)));
        }
        catch
        {
            foreach (ModelFolder folder in folders) folder.Dispose();
            throw;
        }
    }

    public IReadOnlyList<ModelFolder> Folders => folders;

    /// <summary>The models now in the folders, folder by folder in the order given (each ordered as <see cref="ModelFolder.List"/> says).</summary>
    public IReadOnlyList<ModelEntry> List() => folders.SelectMany(f => f.List()).ToList();

    /// <summary>The model called <paramref name="id"/>, or null.</summary>
    public ModelEntry? Find(string id) => List().FirstOrDefault(e => e.Id == id);

    public void Dispose()
    {
        foreach (ModelFolder folder in folders) folder.Dispose();
    }
}

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

    public ModelFolder(ModelSet set, string idPrefix)
    {
        directory = set.Directory;
        vaePath = set.VaePath;
        this.idPrefix = idPrefix;
        Set = set;
        Vae = ModelFile.LoadVae(vaePath);
        try
        {
            Classifier = ModelFile.LoadClassifier(set.ClassifierPath);
            ClassifierConfig reads = Classifier.Config;
            VaeConfig makes = Vae.Config;
            if (reads.Channels != makes.Channels || reads.Resolution != makes.Side)
                throw new DataFormatException(set.ClassifierPath,
                    $"the classifier reads {reads.Describe()} images but the VAE {vaePath} makes {makes.Channels}x{makes.Side}x{makes.Side}; give the classifier trained on the same data");
            Data = ModelFile.ReadData(vaePath) ?? ModelFile.ReadData(set.ClassifierPath);
        }
        catch
        {
            Vae.Dispose();
            Classifier?.Dispose();
            throw;
        }
    }

    public ModelSet Set { get; }

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

/// <summary>
/// One model file of the catalog: its id (the file name without .safetensors, after its folder's prefix), the loaded UNet
/// and its settings, the data it records having been trained on and the <see cref="ModelFolder"/> whose VAE and
/// classifier it goes with, or why it cannot be used (<see cref="Problem"/>: unreadable, or its latents or its data do
/// not fit the VAE).
/// </summary>
public sealed record ModelEntry(string Id, string Path, long Length, DateTime Modified, string? Architecture, UNet? Model, DiffusionConfig? Config, string? Problem,
    DatasetInfo? Data = null, ModelFolder? Folder = null)
{
    public bool Conditional => Config?.UNet.Classes > 0;

    /// <summary>The data the model records, else its folder's (its VAE's or classifier's), else null: MNIST, as every model from before data was recorded.</summary>
    public DatasetInfo? Dataset => Data ?? Folder?.Data;

    /// <summary>"MNIST", "Fashion-MNIST", an image folder's name.</summary>
    public string DatasetName => Dataset?.Name ?? KnownDatasets.Mnist.Name;

    /// <summary>Image channels: 1 gray, 3 RGB (the VAE's, which makes them).</summary>
    public int Channels => Folder?.Vae.Config.Channels ?? Dataset?.Channels ?? 1;

    /// <summary>Image side in pixels (the VAE's).</summary>
    public int Resolution => Folder?.Vae.Config.Side ?? Dataset?.Resolution ?? 32;

    /// <summary>
    /// Class i's name: the recorded data's (MNIST's "0".."9" when none is recorded); a conditional model whose class count
    /// differs from them gets its indices as names.
    /// </summary>
    public IReadOnlyList<string> ClassNames
    {
        get
        {
            IReadOnlyList<string> names = Dataset?.ClassNames ?? KnownDataset.Digits;
            int classes = Config?.UNet.Classes ?? 0;
            return classes == 0 || names.Count == classes ? names
                : Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
    }

    /// <summary>Class <paramref name="index"/>'s name, or the index itself when it has none (a classifier of more classes).</summary>
    public string ClassName(int index) => index >= 0 && index < ClassNames.Count ? ClassNames[index] : index.ToString(CultureInfo.InvariantCulture);

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
