namespace LatentDiffusion.Data;

/// <summary>
/// One kind of dataset the <c>--data</c> option can name: IDX files (<see cref="IdxDatasetKind"/>) or a labelled image
/// folder (<see cref="ImageFolderDatasetKind"/>). A new kind is one file implementing this and one line in
/// <see cref="Datasets.Kinds"/>.
/// </summary>
public interface IDatasetKind
{
    /// <summary>Short name for messages ("IDX files", "image folder").</summary>
    string Name { get; }

    /// <summary>Whether <paramref name="spec"/> (a name such as <c>mnist</c>, or a path) is this kind's; cheap, reads no pixels.</summary>
    bool Accepts(string spec);

    /// <summary>Loads the dataset at the options' resolution, as bytes; <paramref name="notice"/> hears one-line notes (skips, conversions).</summary>
    /// <exception cref="IO.DataFormatException">The data cannot be used; the message names the file or folder and why.</exception>
    ImageDataset Load(string spec, DatasetOptions options, Action<string>? notice = null);
}
