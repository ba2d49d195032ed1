using System.Buffers.Binary;
using LatentDiffusion.Data;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Reports;

/// <summary>Tiny MNIST-layout data made in memory: random 28×28 images with labels cycling through 0-9.</summary>
internal static class SyntheticMnist
{
    public const int Side = 28;

    /// <summary><paramref name="trainCount"/> and <paramref name="testCount"/> images of random pixels, seeded.</summary>
    public static MnistData Create(int trainCount = 50, int testCount = 200, int seed = 1, string directory = "synthetic")
    {
        var random = new Random(seed);
        return new MnistData("synthetic", directory, Split(random, trainCount, "train"), Split(random, testCount, "test"));
    }

    static MnistSplit Split(Random random, int count, string name)
    {
        var pixels = new byte[count * Side * Side];
        random.NextBytes(pixels);
        byte[] labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        return new MnistSplit(new IdxImages(name, count, Side, Side, pixels), labels);
    }

    /// <summary>Writes the four raw IDX files of <paramref name="data"/> into <paramref name="directory"/>.</summary>
    public static void WriteIdx(MnistData data, string directory)
    {
        Directory.CreateDirectory(directory);
        WriteSplit(data.Train, directory, MnistDataset.TrainImages, MnistDataset.TrainLabels);
        WriteSplit(data.Test, directory, MnistDataset.TestImages, MnistDataset.TestLabels);
    }

    static void WriteSplit(MnistSplit split, string directory, string imagesName, string labelsName)
    {
        var images = new byte[16 + split.Images.Pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(images, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), split.Count);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), Side);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), Side);
        split.Images.Pixels.CopyTo(images, 16);
        AtomicFile.WriteAllBytes(Path.Combine(directory, imagesName), images);

        var labels = new byte[8 + split.Count];
        BinaryPrimitives.WriteInt32BigEndian(labels, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), split.Count);
        split.Labels.CopyTo(labels, 8);
        AtomicFile.WriteAllBytes(Path.Combine(directory, labelsName), labels);
    }
}
