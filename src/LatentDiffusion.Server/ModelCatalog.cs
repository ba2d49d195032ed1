using System.Globalization;
using LatentDiffusion.Data;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.Models;

namespace LatentDiffusion.Server;

/// <summary>
/// The diffusion models the server offers: those of each <see cref="ServedFolder"/>'s folder (<see cref="ModelFolder"/>),
/// the first folder's first. Every folder's VAE and classifier are loaded at start, so a missing or broken one stops
/// the server before it listens.
/// </summary>
public sealed class ModelCatalog : IDisposable
{
    readonly List<ModelFolder> folders = [];

    public ModelCatalog(IReadOnlyList<ServedFolder> served)
    {
        if (ServedFolder.Problem(served) is { } problem) throw new ArgumentException(problem, nameof(served));
        try
        {
            for (int i = 0; i < served.Count; i++) folders.Add(new ModelFolder(served[i], served[i].IdPrefix(i)));
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
