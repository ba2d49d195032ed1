using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// The one entry point of <c>--data</c> / <c>--dataset</c>: the dataset kinds in the order they are asked, and
/// <see cref="Load"/>, which gives the spec to the first kind that accepts it.
/// </summary>
public static class Datasets
{
    /// <summary>Every kind, asked in order: IDX files first (a name or a directory holding them), then image folders.</summary>
    public static IReadOnlyList<IDatasetKind> Kinds { get; } = [new IdxDatasetKind(), new ImageFolderDatasetKind()];

    /// <summary>What <c>--data</c> means when not given: the shipped MNIST.</summary>
    public const string Default = IdxDatasetKind.MnistName;

    /// <summary>The kind that takes <paramref name="spec"/>; a spec none takes is one line naming what is accepted.</summary>
    public static IDatasetKind KindOf(string spec)
    {
        ArgumentException.ThrowIfNullOrEmpty(spec);
        if (File.Exists(spec)) throw new DataFormatException(spec, "is a file; --data takes mnist, fashion-mnist, a directory of IDX files or an image folder");
        return Kinds.FirstOrDefault(k => k.Accepts(spec))
            ?? throw new DataFormatException(spec, Directory.Exists(spec)
                ? "holds neither the four IDX files nor class folders of images"
                : "no such directory, and not a dataset name (mnist, fashion-mnist)");
    }

    /// <summary>Loads <paramref name="spec"/> with <paramref name="options"/> (default: 32 px, channels from the data).</summary>
    public static ImageDataset Load(string spec, DatasetOptions? options = null, Action<string>? notice = null) =>
        KindOf(spec).Load(spec, options ?? new DatasetOptions(), notice);

    /// <summary>Whether <paramref name="spec"/> is an IDX set (for the commands that read MNIST-layout files only).</summary>
    public static bool IsIdx(string spec) => Kinds[0].Accepts(spec);
}
