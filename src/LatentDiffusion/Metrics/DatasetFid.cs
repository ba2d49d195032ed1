using LatentDiffusion.Data;
using LatentDiffusion.IO;
using LatentDiffusion.Models;

namespace LatentDiffusion.Metrics;

/// <summary>
/// FID under any dataset's classifier: the sources are read at the classifier's channels and side. A source is
/// <c>DATA:train</c> or <c>DATA:test</c> (a split of a dataset <c>--data</c> names; the classifier must have been trained
/// on that data, by its recorded content hash), a folder of images (e.g. generated samples; any size, by the dataset
/// rule of <see cref="SquareResize"/>), or a <c>.npz</c> of statistics. Part 1's MNIST FID keeps its own path
/// (<see cref="FidCalculator.Compute(FidSource, FidSource)"/>).
/// </summary>
public static class DatasetFid
{
    public const string TrainSuffix = ":train", TestSuffix = ":test";

    /// <summary>Whether <paramref name="source"/> names a dataset split (<c>DATA:train</c>, <c>DATA:test</c>).</summary>
    public static bool IsSplit(string source) =>
        source.EndsWith(TrainSuffix, StringComparison.Ordinal) || source.EndsWith(TestSuffix, StringComparison.Ordinal);

    /// <summary>The FID between two sources with <paramref name="calculator"/>'s classifier (at <paramref name="classifierPath"/>).</summary>
    public static FidResult Compute(FidCalculator calculator, Classifier classifier, string classifierPath, string a, string b, Action<string>? notice = null)
    {
        DatasetInfo? recorded = ModelFile.ReadData(classifierPath);
        FeatureStatistics statsA = Statistics(calculator, classifier, recorded, classifierPath, a, notice);
        FeatureStatistics statsB = Statistics(calculator, classifier, recorded, classifierPath, b, notice);
        FidResult result = calculator.Compute(statsA, statsB);
        return result with { CountA = statsA.Count, CountB = statsB.Count };
    }

    /// <summary>One source's statistics (see the class summary); a dataset the classifier was not trained on is one line naming both.</summary>
    public static FeatureStatistics Statistics(FidCalculator calculator, Classifier classifier, DatasetInfo? recorded, string classifierPath,
        string source, Action<string>? notice = null)
    {
        ClassifierConfig shape = classifier.Config;
        if (IsSplit(source))
        {
            bool train = source.EndsWith(TrainSuffix, StringComparison.Ordinal);
            string spec = source[..source.LastIndexOf(':')];
            ImageDataset data = Datasets.Load(spec, new DatasetOptions { Resolution = shape.Resolution }, notice);
            if (DataMatch.ClassifierProblem(shape, recorded, classifierPath, data.Info, sameData: true) is { } problem)
                throw new DataFormatException(source, problem);
            return calculator.StatisticsOfImages(train ? data.Train : data.Test);
        }
        if (File.Exists(source) && source.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return FeatureStatistics.Load(source);
        if (Directory.Exists(source))
            return calculator.StatisticsOfImages(ImageFolderDatasetKind.ReadUnlabelled(source, shape.Channels, shape.Resolution));
        throw new DataFormatException(source, "not a DATA:train or DATA:test split, a folder of images or a .npz of statistics");
    }
}
