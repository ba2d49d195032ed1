using LatentDiffusion.Data;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Data;

/// <summary>Byte-held splits: MNIST's batches are part 1's float tensors bit for bit; the area rule; storage beyond a chunk.</summary>
public sealed class LabelledImagesTests
{
    [Fact]
    public void FromIdx_Batches_AreBitIdenticalToPart1Preprocessing()
    {
        MnistSplit split = SyntheticData.Split(50, seed: 4);
        LabelledImages images = LabelledImages.FromIdx(split);
        using Tensor all = split.ToInputs();                                  // part 1: /255, then pad → (N, 1, 32, 32)
        using Tensor indices = tensor(new long[] { 7, 0, 49, 7, 13 });
        using Tensor expected = all.index_select(0, indices);
        using Tensor batch = images.Inputs(indices);
        Assert.Equal(expected.shape, batch.shape);
        Assert.True(expected.eq(batch).all().item<bool>());
        using Tensor everything = images.ToInputs();
        Assert.True(all.eq(everything).all().item<bool>());
        using Tensor targets = images.Targets(indices), expectedTargets = split.ToTargets().index_select(0, indices);
        Assert.True(expectedTargets.eq(targets).all().item<bool>());
    }

    [Fact]
    public void FromIdx_At64_ReplicatesEachPaddedPixelTwice()
    {
        MnistSplit split = SyntheticData.Split(3);
        LabelledImages small = LabelledImages.FromIdx(split), big = LabelledImages.FromIdx(split, 64);
        byte[] s = small.Image(1).ToArray(), b = big.Image(1).ToArray();
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                Assert.Equal(s[y / 2 * 32 + x / 2], b[y * 64 + x]);
    }

    [Fact]
    public void Area_HalvingAveragesTwoByTwoBlocks()
    {
        byte[] source = [0, 2, 10, 10, 4, 6, 20, 30, 1, 1, 1, 1, 1, 1, 1, 3];   // 4x4
        var destination = new byte[4];
        SquareResize.Area(source, 4, 2, destination);
        Assert.Equal([3, 18, 1, 2], destination);                                // means 3, 17.5 → 18, 1, 1.5 → 2
    }

    [Fact]
    public void Add_PastOneChunk_KeepsEveryImage()
    {
        var images = new LabelledImages(3, 64);                                  // 12 KiB an image: 21,845 a 256-MiB chunk
        int n = 22_000;
        for (int i = 0; i < n; i++) images.Add(i % 7)[0] = (byte)(i % 251);
        Assert.Equal(n, images.Count);
        Assert.Equal((byte)(21_999 % 251), images.Image(21_999)[0]);
        Assert.Equal((byte)(21_844 % 251), images.Image(21_844)[0]);
        Assert.Equal(21_999 % 7, images.Labels[21_999]);
    }

    [Fact]
    public void ToGray_OfGrayRgb_IsTheGrayValues()
    {
        var rgb = new LabelledImages(3, 2);
        rgb.Add(1).Fill(77);
        LabelledImages gray = rgb.ToGray();
        Assert.Equal(1, gray.Channels);
        Assert.Equal([77, 77, 77, 77], gray.Image(0).ToArray());
        Assert.Equal([1], gray.Labels);
    }
}
