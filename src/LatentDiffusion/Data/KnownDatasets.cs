namespace LatentDiffusion.Data;

/// <summary>One file of a published dataset, identified by its uncompressed content.</summary>
/// <param name="Name">Standard file name without <c>.gz</c>, e.g. <c>train-images-idx3-ubyte</c>.</param>
/// <param name="ContentLength">Length of the uncompressed content in bytes, header included.</param>
/// <param name="ContentSha256">SHA-256 (lowercase hex) of the uncompressed content: survives recompression.</param>
/// <param name="GzMd5">MD5 of the original <c>.gz</c> as published (torchvision's check), if known.</param>
public sealed record KnownFile(string Name, long ContentLength, string ContentSha256, string? GzMd5 = null);

/// <summary>A dataset of MNIST layout: its name, its four files and, when its labels are not the digits, its class names.</summary>
public sealed record KnownDataset(string Name, IReadOnlyList<KnownFile> Files, IReadOnlyList<string>? ClassNames = null)
{
    /// <summary>Label i's name: <see cref="ClassNames"/>, else "0".."9".</summary>
    public static IReadOnlyList<string> Digits { get; } = Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}

/// <summary>
/// The datasets <see cref="MnistDataset.Load(string, Action{string}?)"/> recognises, by the SHA-256 of each file's
/// uncompressed content (so a recompressed copy still verifies). The MNIST sums were computed from the byte-exact
/// originals (their <c>.gz</c> MD5s are the ones torchvision lists); the Fashion-MNIST sums from Debian's
/// <c>dataset-fashion-mnist</c> package, which ships the files recompressed (its <c>.gz</c> MD5s differ from
/// Zalando's, the content does not).
/// </summary>
public static class KnownDatasets
{
    public const string Unknown = "unknown";

    // 16-byte header + N x 28 x 28 pixels; 8-byte header + N labels.
    const long TrainImagesLength = 16 + 60000L * 28 * 28, TrainLabelsLength = 8 + 60000;
    const long TestImagesLength = 16 + 10000L * 28 * 28, TestLabelsLength = 8 + 10000;

    public static readonly KnownDataset Mnist = new("MNIST",
    [
        new(MnistDataset.TrainImages, TrainImagesLength, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        new(MnistDataset.TrainLabels, TrainLabelsLength, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", "d53e105ee54ea40749a09fcbcd1e9432"),
        new(MnistDataset.TestImages, TestImagesLength, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", "9fb629c4189551a2d022fa330f9573f3"),
        new(MnistDataset.TestLabels, TestLabelsLength, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]);

    /// <summary>
    /// Zalando's Fashion-MNIST; the MD5s are those of the original <c>.gz</c> files in its README, the class names its
    /// README's label table (slashes and spaces as hyphens, so a name is one word in a URL or a shell).
    /// </summary>
    public static readonly KnownDataset FashionMnist = new("Fashion-MNIST",
    [
        new(MnistDataset.TrainImages, TrainImagesLength, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        new(MnistDataset.TrainLabels, TrainLabelsLength, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", "25c81989df183df01b3e8a0aad5dffbe"),
        new(MnistDataset.TestImages, TestImagesLength, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", "bef4ecab320f06d8554ea6380940ec79"),
        new(MnistDataset.TestLabels, TestLabelsLength, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", "bb300cfdad3c16e7a12a480ee83cd310"),
    ], ["t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]);

    /// <summary>The class names of the known dataset called <paramref name="name"/> ("0".."9" for MNIST and unknown sets).</summary>
    public static IReadOnlyList<string> ClassNamesOf(string name) =>
        All.FirstOrDefault(d => d.Name == name)?.ClassNames ?? KnownDataset.Digits;

    public static IReadOnlyList<KnownDataset> All { get; } = [Mnist, FashionMnist];

    /// <summary>
    /// The name of the known dataset all four files belong to, or <see cref="Unknown"/>. An unknown set is not an
    /// error (any MNIST-layout data can be trained on), but <paramref name="notice"/> hears why it is unknown: which
    /// files differ from the closest known dataset, or that the files have MNIST's sizes but not its content.
    /// </summary>
    /// <param name="directory">Where the files are, for the notice.</param>
    /// <param name="sha256ByName">Content SHA-256 of each standard file name (without <c>.gz</c>).</param>
    /// <param name="lengthByName">Uncompressed content length of each file.</param>
    public static string Identify(string directory, IReadOnlyDictionary<string, string> sha256ByName,
        IReadOnlyDictionary<string, long> lengthByName, Action<string>? notice)
    {
        KnownDataset? closest = null;
        int closestMatches = 0;
        foreach (KnownDataset dataset in All)
        {
            int matches = dataset.Files.Count(f => sha256ByName.GetValueOrDefault(f.Name) == f.ContentSha256);
            if (matches == dataset.Files.Count) return dataset.Name;
            if (matches > closestMatches) (closest, closestMatches) = (dataset, matches);
        }

        string why;
        if (closest is not null)
        {
            var differ = closest.Files.Where(f => sha256ByName.GetValueOrDefault(f.Name) != f.ContentSha256).Select(f => f.Name);
            why = $"{string.Join(", ", differ)} differ from {closest.Name}'s published content (SHA-256 of the uncompressed file) " +
                  $"while the other files match it: a modified or damaged copy?";
        }
        else if (Mnist.Files.All(f => lengthByName.GetValueOrDefault(f.Name) == f.ContentLength))
        {
            why = $"the files have MNIST's sizes (60000/10000 images of 28x28) but their content matches none of " +
                  $"{string.Join(", ", All.Select(d => d.Name))}: a modified or damaged copy?";
        }
        else
        {
            why = $"their content matches none of {string.Join(", ", All.Select(d => d.Name))}";
        }
        notice?.Invoke($"{directory}: unknown dataset, {why}. Loading it anyway; results are not comparable with published numbers.");
        return Unknown;
    }
}
