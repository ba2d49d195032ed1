using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>Loads a directory holding the four standard MNIST-layout files, raw or <c>.gz</c>.</summary>
public static class MnistDataset
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>The four standard file names, without the optional <c>.gz</c>.</summary>
    public static readonly string[] FileNames = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>Default data directory: <c>data/mnist</c> of the repository, found upward from the app.</summary>
    public static string DefaultDirectory => RepositoryPaths.Find("data/mnist") ?? Path.Combine("data", "mnist");

    /// <summary>Reads and checks all four files of <paramref name="directory"/>.</summary>
    public static MnistData Load(string directory)
    {
        var missing = FileNames.Where(f => Locate(directory, f) is null).ToList();
        if (missing.Count > 0)
            throw new DataFormatException(directory,
                $"missing {string.Join(", ", missing)} (raw or .gz); point --data at a directory holding the four MNIST files " +
                $"{string.Join(", ", FileNames)}");
        var train = ReadSplit(Locate(directory, TrainImages)!, Locate(directory, TrainLabels)!);
        var test = ReadSplit(Locate(directory, TestImages)!, Locate(directory, TestLabels)!);
        return new MnistData("unknown", directory, train, test);
    }

    /// <summary>The path of <paramref name="name"/> or <paramref name="name"/>.gz in the directory, raw preferred.</summary>
    public static string? Locate(string directory, string name)
    {
        string raw = Path.Combine(directory, name);
        if (File.Exists(raw)) return raw;
        string gz = raw + ".gz";
        return File.Exists(gz) ? gz : null;
    }

    static MnistSplit ReadSplit(string imagesPath, string labelsPath)
    {
        IdxImages images = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new DataFormatException(labelsPath, $"{labels.Length} labels but {imagesPath} holds {images.Count} images");
        return new MnistSplit(images, labels);
    }
}
