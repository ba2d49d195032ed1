using System.Buffers.Binary;
using LatentDiffusion.Data;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Reports;

/// <summary>Writes an in-memory dataset as the four raw IDX files, for tests that go through <c>--data DIR</c>.</summary>
internal static class IdxFiles
{
    /// <summary>Writes the four raw IDX files of <paramref name="data"/> into <paramref name="directory"/>.</summary>
    public static void Write(MnistData data, string directory)
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
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), split.Images.Rows);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), split.Images.Cols);
        split.Images.Pixels.CopyTo(images, 16);
        AtomicFile.WriteAllBytes(Path.Combine(directory, imagesName), images);

        var labels = new byte[8 + split.Count];
        BinaryPrimitives.WriteInt32BigEndian(labels, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), split.Count);
        split.Labels.CopyTo(labels, 8);
        AtomicFile.WriteAllBytes(Path.Combine(directory, labelsName), labels);
    }
}
