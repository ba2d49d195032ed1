using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// Part 1's classifier reading one generated digit: the label it gives (argmax of the softmax) and its probability,
/// how sure it is. <see cref="DigitCensus"/> sums these over many digits; this keeps them per image, for showing
/// under each digit of a grid.
/// </summary>
public sealed record DigitReading(int Label, double Confidence)
{
    /// <summary>Reads <paramref name="images"/> (N, 1, 32, 32) in [0, 1], in order.</summary>
    public static IReadOnlyList<DigitReading> Read(Classifier classifier, Tensor images, int batchSize = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var eval = EvalMode.Of(classifier);
        using var noGrad = no_grad();
        var readings = new List<DigitReading>();
        long n = images.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            Tensor probabilities = nn.functional.softmax(classifier.forward(images.narrow(0, start, Math.Min(batchSize, n - start))), 1);
            (Tensor top, Tensor label) = probabilities.max(1);
            long[] labels = label.data<long>().ToArray();
            float[] confidences = top.data<float>().ToArray();
            for (int i = 0; i < labels.Length; i++) readings.Add(new DigitReading((int)labels[i], confidences[i]));
        }
        return readings;
    }
}
