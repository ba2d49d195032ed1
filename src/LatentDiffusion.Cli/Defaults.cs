using LatentDiffusion.Data;
using LatentDiffusion.IO;

namespace LatentDiffusion.Cli;

/// <summary>
/// Where the CLI looks when an option is not given: the files shipped with ldm, found from the program's own location
/// (<see cref="ShippedFiles"/>), never from the working directory.
/// </summary>
public static class Defaults
{
    /// <summary>The shipped MNIST files (data/mnist).</summary>
    public static string DataDirectory => MnistDataset.DefaultDirectory;

    /// <summary>The shipped classifier (models/classifier.safetensors).</summary>
    public static string ClassifierModel => ShippedFiles.Model("classifier.safetensors");

    /// <summary>The shipped models folder (models/).</summary>
    public static string ModelsDirectory => ShippedFiles.Locate(ShippedFiles.ModelsDirectory).Path;

    /// <summary>The shipped reports folder (docs/).</summary>
    public static string DocsDirectory => ShippedFiles.Locate(ShippedFiles.DocsDirectory).Path;

    /// <summary>The shipped model set for the data <paramref name="dataSpec"/> names: models/fashion-mnist/ for fashion-mnist, else models/ (MNIST's).</summary>
    public static string ModelSet(string dataSpec) =>
        dataSpec.Equals(IdxDatasetKind.FashionMnistName, StringComparison.OrdinalIgnoreCase) ? Model(IdxDatasetKind.FashionMnistName) : ModelsDirectory;

    /// <summary>A shipped model file, models/<paramref name="file"/>.</summary>
    public static string Model(string file) => ShippedFiles.Model(file);
}
