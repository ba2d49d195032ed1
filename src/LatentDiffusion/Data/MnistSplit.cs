using static TorchSharp.torch;

namespace LatentDiffusion.Data;

/// <summary>One split of an MNIST-layout dataset: images with their labels, as read from disk.</summary>
public sealed record MnistSplit(IdxImages Images, byte[] Labels)
{
    public int Count => Images.Count;

    /// <summary>The images preprocessed as the blog does: (N, 1, 32, 32) float32.</summary>
    public Tensor ToInputs() => Preprocess.ToModelInput(Images.Pixels, Images.Count, Images.Rows, Images.Cols);

    /// <summary>Labels as (N,) int64.</summary>
    public Tensor ToTargets() => tensor(Labels.Select(l => (long)l).ToArray(), ScalarType.Int64);
}
