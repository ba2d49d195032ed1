using LatentDiffusion.Models;

namespace LatentDiffusion.Data;

/// <summary>
/// Whether a trained model fits a dataset: the one-line problems, naming both, for a model given data of another shape
/// or a classifier of another dataset used for that dataset's FID; and the one-line note for a perceptual classifier of
/// another dataset, which may be used.
/// </summary>
public static class DataMatch
{
    /// <summary>
    /// Null when the classifier at <paramref name="path"/> (its <paramref name="config"/> and the data it records, if any)
    /// can read <paramref name="data"/>: same channels, side and number of classes; with <paramref name="sameData"/> (its
    /// FID features define the metric) also trained on data of the same content hash (one that records none: MNIST or an
    /// unrecognised IDX set only).
    /// </summary>
    public static string? ClassifierProblem(ClassifierConfig config, DatasetInfo? recorded, string path, DatasetInfo data, bool sameData = false)
    {
        string model = recorded is null ? $"the classifier {path} ({config.Describe()})" : $"the classifier {path} (trained on {recorded.Describe()})";
        if (config.Channels != data.Channels || config.Resolution != data.Resolution || config.Classes != data.ClassNames.Count)
            return $"{model} does not fit the data {data.Describe()}: it reads {config.Describe()}";
        if (sameData && (recorded is not null ? recorded.ContentSha256 != data.ContentSha256 : !MayBeUnrecordedData(data)))
            return $"{model} is another dataset's classifier; the FID of {data.Describe()} needs a classifier trained on it (ldm classifier train --data …)";
        return null;
    }

    /// <summary>
    /// Whether a model that records no data (MNIST's shipped models, and every model made before the data was recorded,
    /// when only MNIST-layout IDX files could be read) may have been trained on <paramref name="data"/>: MNIST or an
    /// unrecognised IDX set, never a named other dataset or an image folder.
    /// </summary>
    static bool MayBeUnrecordedData(DatasetInfo data) => data.Name == KnownDatasets.Mnist.Name || data.Name == KnownDatasets.Unknown;

    /// <summary>
    /// Null when the <paramref name="what"/> at <paramref name="path"/> records <paramref name="data"/>'s content, or
    /// records none and may be of that data (MNIST or an unrecognised IDX set); else one line naming both (a generator
    /// graded on data it was not trained on gives a silently wrong table).
    /// </summary>
    public static string? TrainedOnProblem(string what, DatasetInfo? recorded, string path, DatasetInfo data)
    {
        if (recorded is null)
            return MayBeUnrecordedData(data) ? null
                : $"the {what} {path} records no data, so it is one of MNIST's (as every model made before the data was recorded), not of {data.Name}; give a model trained on {data.Name}";
        if (recorded.ContentSha256 == data.ContentSha256) return null;
        bool sameName = recorded.Name == data.Name;
        return $"the {what} {path} was trained on {(sameName ? recorded.Describe() : recorded.Name)}, not {(sameName ? data.Describe() : data.Name)}; " +
               "give the data it was trained on (--data) or a model trained on this data";
    }

    /// <summary>
    /// Null when the perceptual classifier at <paramref name="path"/> records no data or <paramref name="data"/>'s content;
    /// else a one-line note naming both. Not a problem: a net trained on other data still defines a feature distance
    /// for the decoder tuning, but its features are not those the data's own classifier would have learned.
    /// </summary>
    public static string? PerceptualClassifierNote(DatasetInfo? recorded, string path, DatasetInfo data)
    {
        if (recorded is null || recorded.ContentSha256 == data.ContentSha256) return null;
        bool sameName = recorded.Name == data.Name;   // two folders of one name: their descriptions tell them apart
        string trainedOn = sameName ? recorded.Describe() : recorded.Name, given = sameName ? data.Describe() : data.Name;
        return $"{path} was trained on {trainedOn}, not {given}; its features still define the perceptual term";
    }
}
