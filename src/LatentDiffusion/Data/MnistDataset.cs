using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// Loads a directory holding the four standard MNIST-layout files, raw or <c>.gz</c>, checks their structure, and
/// names the dataset by the checksums of their content (<see cref="KnownDatasets"/>): "MNIST", "Fashion-MNIST" or
/// "unknown". A structural problem is a <see cref="DataFormatException"/>; an unrecognised dataset only a notice.
/// </summary>
public static class MnistDataset
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    /// <summary>The four standard file names, without the optional <c>.gz</c>.</summary>
    public static readonly string[] FileNames = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>Default data directory: the shipped <c>data/mnist</c> (<see cref="ShippedFiles"/>), whatever the working directory.</summary>
    public static string DefaultDirectory => ShippedFiles.Locate(ShippedFiles.DataDirectory).Path;

    /// <summary>Reads and checks all four files of <paramref name="directory"/>; an unknown dataset loads silently.</summary>
    public static MnistData Load(string directory) => Load(directory, notice: null);

    /// <summary>
    /// Reads and checks all four files of <paramref name="directory"/>. <paramref name="notice"/> hears, as one line,
    /// why the dataset is "unknown" when its checksums match no known dataset (a front end prints it to stderr).
    /// </summary>
    /// <exception cref="DataFormatException">A file is missing or fails a structural check; the message names it.</exception>
    public static MnistData Load(string directory, Action<string>? notice)
    {
        var missing = FileNames.Where(f => Locate(directory, f) is null).ToList();
        if (missing.Count > 0)
            throw new DataFormatException(directory,
                $"missing {string.Join(", ", missing)} (raw or .gz); point --data at a directory holding the four MNIST files " +
                $"{string.Join(", ", FileNames)}");

        var (train, trainSums) = ReadSplit(Locate(directory, TrainImages)!, Locate(directory, TrainLabels)!);
        var (test, testSums) = ReadSplit(Locate(directory, TestImages)!, Locate(directory, TestLabels)!);
        var sha256 = new Dictionary<string, string>
        {
            [TrainImages] = trainSums.Images, [TrainLabels] = trainSums.Labels,
            [TestImages] = testSums.Images, [TestLabels] = testSums.Labels,
        };
        var lengths = new Dictionary<string, long>
        {
            [TrainImages] = ImagesLength(train), [TrainLabels] = LabelsLength(train),
            [TestImages] = ImagesLength(test), [TestLabels] = LabelsLength(test),
        };
        string name = KnownDatasets.Identify(directory, sha256, lengths, notice);
        return new MnistData(name, directory, train, test) { ContentSha256 = sha256 };
    }

    /// <summary>
    /// <see cref="Load(string, Action{string}?)"/>, after downloading whichever of the four files are missing from
    /// <paramref name="directory"/> (see <see cref="MnistDownloader"/>). When the download fails the
    /// <see cref="DataFormatException"/> has the directory as its path and a one-line message naming the four files
    /// and the <c>--data</c> option.
    /// </summary>
    public static MnistData LoadOrDownload(string directory, DownloadOptions? options = null, Action<string>? notice = null)
    {
        if (FileNames.Any(f => Locate(directory, f) is null))
            MnistDownloader.DownloadMissing(directory, options, notice);
        return Load(directory, notice);
    }

    /// <summary>The path of <paramref name="name"/> or <paramref name="name"/>.gz in the directory, raw preferred.</summary>
    public static string? Locate(string directory, string name)
    {
        string raw = Path.Combine(directory, name);
        if (File.Exists(raw)) return raw;
        string gz = raw + ".gz";
        return File.Exists(gz) ? gz : null;
    }

    static (MnistSplit Split, (string Images, string Labels) Sha256) ReadSplit(string imagesPath, string labelsPath)
    {
        IdxImages images = IdxReader.ReadImages(imagesPath);
        IdxLabels labels = IdxReader.ReadLabelsFile(labelsPath);
        if (labels.Labels.Length != images.Count)
            throw new DataFormatException(labelsPath, $"{labels.Labels.Length} labels but {imagesPath} holds {images.Count} images");
        return (new MnistSplit(images, labels.Labels), (images.Sha256, labels.Sha256));
    }

    // Content lengths as the IDX headers describe them: 16-byte images header, 8-byte labels header.
    static long ImagesLength(MnistSplit split) => 16 + (long)split.Count * split.Images.Rows * split.Images.Cols;
    static long LabelsLength(MnistSplit split) => 8 + split.Labels.Length;
}
