using LatentDiffusion.Data;

namespace LatentDiffusion.Tests;

/// <summary>Small MNIST-shaped datasets made in memory, so unit tests need no real data.</summary>
public static class SyntheticData
{
    /// <summary>
    /// <paramref name="count"/> 28x28 images whose label is learnable: a bright bar whose row depends on the
    /// label, plus noise.
    /// </summary>
    public static MnistSplit Split(int count, int seed = 0)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % 10;
            labels[i] = (byte)label;
            for (int p = 0; p < 28 * 28; p++) pixels[i * 784 + p] = (byte)rng.Next(0, 60);
            int row = 3 + 2 * label;
            for (int c = 4; c < 24; c++) pixels[i * 784 + row * 28 + c] = 255;
        }
        return new MnistSplit(new IdxImages("synthetic", count, 28, 28, pixels), labels);
    }

    public static MnistData Dataset(int train = 300, int test = 100) =>
        new("synthetic", "synthetic", Split(train, 1), Split(test, 2));

    /// <summary>Writes a dataset as the four raw IDX files of MNIST's layout into <paramref name="directory"/>.</summary>
    public static string WriteIdxDirectory(string directory, MnistData data)
    {
        Directory.CreateDirectory(directory);
        WriteImages(Path.Combine(directory, MnistDataset.TrainImages), data.Train.Images);
        WriteLabels(Path.Combine(directory, MnistDataset.TrainLabels), data.Train.Labels);
        WriteImages(Path.Combine(directory, MnistDataset.TestImages), data.Test.Images);
        WriteLabels(Path.Combine(directory, MnistDataset.TestLabels), data.Test.Labels);
        return directory;
    }

    public static void WriteImages(string path, IdxImages images)
    {
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in new[] { IdxReader.ImagesMagic, images.Count, images.Rows, images.Cols }) w.Write(BigEndian(v));
        w.Write(images.Pixels);
    }

    public static void WriteLabels(string path, byte[] labels)
    {
        using var w = new BinaryWriter(File.Create(path));
        foreach (int v in new[] { IdxReader.LabelsMagic, labels.Length }) w.Write(BigEndian(v));
        w.Write(labels);
    }

    static int BigEndian(int v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
}
