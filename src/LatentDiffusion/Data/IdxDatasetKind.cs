using System.Security.Cryptography;
using System.Text;
using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// MNIST-layout IDX sets: the names <c>mnist</c> (the shipped data/mnist) and <c>fashion-mnist</c> (Debian's
/// dataset-fashion-mnist in /usr/share/datasets/fashion-mnist, else downloaded once into the user's cache with its
/// published checksums), or any directory holding the four IDX files. Gray, classes "0".."9" (Fashion-MNIST: its garments' names), 28x28 digits brought
/// to the model's side by <see cref="LabelledImages.FromIdx"/>. The content hash is the SHA-256 of the four files'
/// content hashes, one "name:sha256" line each in the standard order, so it names a known set whatever its compression.
/// </summary>
public sealed class IdxDatasetKind : IDatasetKind
{
    public const string MnistName = "mnist";
    public const string FashionMnistName = "fashion-mnist";

    /// <summary>Where Debian's dataset-fashion-mnist package installs the four files.</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Zalando's mirror of Fashion-MNIST's four .gz files (the one torchvision uses).</summary>
    public static readonly Uri FashionMnistMirror = new("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");

    public string Name => "IDX files";

    public bool Accepts(string spec) =>
        IsName(spec) || (Directory.Exists(spec) && MnistDataset.FileNames.Any(f => MnistDataset.Locate(spec, f) is not null));

    static bool IsName(string spec) =>
        spec.Equals(MnistName, StringComparison.OrdinalIgnoreCase) || spec.Equals(FashionMnistName, StringComparison.OrdinalIgnoreCase);

    /// <summary>The directory a spec names and the download options for it: a named set's home, or the spec itself.</summary>
    public static (string Directory, DownloadOptions Download) Resolve(string spec, DownloadOptions? download = null)
    {
        if (spec.Equals(MnistName, StringComparison.OrdinalIgnoreCase))
            return (MnistDataset.DefaultDirectory, download ?? new DownloadOptions());
        if (spec.Equals(FashionMnistName, StringComparison.OrdinalIgnoreCase))
        {
            var options = download ?? new DownloadOptions { Mirrors = [FashionMnistMirror], Dataset = KnownDatasets.FashionMnist };
            if (MnistDataset.FileNames.All(f => MnistDataset.Locate(DebianFashionMnist, f) is not null)) return (DebianFashionMnist, options);
            string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return (Path.Combine(cache, "ldm", FashionMnistName), options);
        }
        return (spec, download ?? new DownloadOptions());
    }

    public ImageDataset Load(string spec, DatasetOptions options, Action<string>? notice = null)
    {
        if (options.Problem() is { } problem) throw new ArgumentException(problem, nameof(options));
        if (options.Channels == 3)
            throw new DataFormatException(spec, "IDX sets are gray (1 channel); --channels 3 is for RGB image folders");
        (string directory, DownloadOptions download) = Resolve(spec, options.Download);
        if (IsName(spec)) Directory.CreateDirectory(directory);
        MnistData data = MnistDataset.LoadOrDownload(directory, download, notice);
        return FromMnist(data, options.Resolution);
    }

    /// <summary>An IDX set already read (<see cref="MnistDataset.Load(string, Action{string}?)"/>) as bytes at <paramref name="resolution"/> px.</summary>
    public static ImageDataset FromMnist(MnistData data, int resolution = 32)
    {
        var info = new DatasetInfo(data.Name, data.Directory, 1, resolution, KnownDatasets.ClassNamesOf(data.Name),
            ContentHash(data), "the IDX train and t10k files");
        return new ImageDataset(info, LabelledImages.FromIdx(data.Train, resolution), LabelledImages.FromIdx(data.Test, resolution), new DatasetReport());
    }

    static string ContentHash(MnistData data)
    {
        var lines = new StringBuilder();
        foreach (string name in MnistDataset.FileNames) lines.Append(name).Append(':').Append(data.ContentSha256.GetValueOrDefault(name, "")).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString())));
    }
}
