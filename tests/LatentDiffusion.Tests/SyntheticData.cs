using System.Buffers.Binary;
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
        WriteSplit(data.Train, directory, MnistDataset.TrainImages, MnistDataset.TrainLabels);
        WriteSplit(data.Test, directory, MnistDataset.TestImages, MnistDataset.TestLabels);
        return directory;
    }

    static void WriteSplit(MnistSplit split, string directory, string imagesName, string labelsName)
    {
        var images = new byte[16 + split.Images.Pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(images, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), split.Count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), split.Images.Rows);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), split.Images.Cols);
        split.Images.Pixels.CopyTo(images, 16);
        File.WriteAllBytes(Path.Combine(directory, imagesName), images);

        var labels = new byte[8 + split.Count];
        BinaryPrimitives.WriteInt32BigEndian(labels, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), split.Count);
        split.Labels.CopyTo(labels, 8);
        File.WriteAllBytes(Path.Combine(directory, labelsName), labels);
    }
}
