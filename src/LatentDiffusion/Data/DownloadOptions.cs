namespace LatentDiffusion.Data;

/// <summary>
/// Where and how <see cref="MnistDownloader"/> fetches missing dataset files. The defaults fetch MNIST from the
/// mirrors torchvision uses, in its order; override with <c>with</c> (tests point <see cref="Mirrors"/> at a
/// server on 127.0.0.1 and shorten the timeouts).
/// </summary>
public sealed record DownloadOptions
{
    /// <summary>torchvision's MNIST mirrors (torchvision/datasets/mnist.py), first tried first.</summary>
    public static IReadOnlyList<Uri> TorchvisionMirrors { get; } =
    [
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("http://yann.lecun.com/exdb/mnist/"),
    ];

    /// <summary>
    /// Base addresses tried in order; a file's URL is the base plus <c>name.gz</c> (a missing final slash is added).
    /// Default: <see cref="TorchvisionMirrors"/>.
    /// </summary>
    public IReadOnlyList<Uri> Mirrors { get; init; } = TorchvisionMirrors;

    /// <summary>
    /// Longest wait for a server's response headers and, after that, for each next chunk of the body. A stalled
    /// server fails after this long; a slow one that keeps sending does not. Default 30 s.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait to open a connection (DNS + TCP + TLS), short so that no network fails fast. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A body longer than this is refused, whatever the server claims. Default 64 MiB (MNIST's largest .gz is 9.9 MB).</summary>
    public long MaxFileBytes { get; init; } = 64L << 20;

    /// <summary>The files to fetch and the checksums they must have. Default <see cref="KnownDatasets.Mnist"/>.</summary>
    public KnownDataset Dataset { get; init; } = KnownDatasets.Mnist;
}
