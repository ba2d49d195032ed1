using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>
/// The classifier's reading of a set of generated digits: how many it labels as each digit, against MNIST's own
/// proportions, and how confident it is (mean top softmax probability). A generator that covers every class in
/// MNIST's proportions scores a histogram close to the test set's; one that collapses onto a few digits does not.
/// </summary>
public sealed record DigitCensus(long[] Counts, double[] Fractions, double MeanConfidence, double[] ReferenceFractions)
{
    /// <summary>Total variation distance between the label histogram and the reference proportions, in [0, 1].</summary>
    public double TotalVariation => 0.5 * Fractions.Zip(ReferenceFractions, (a, b) => Math.Abs(a - b)).Sum();

    /// <summary>Labels <paramref name="images"/> (N, 1, 32, 32) in [0, 1]; <paramref name="referenceLabels"/> gives the proportions to compare with.</summary>
    public static DigitCensus Of(Classifier classifier, Tensor images, IReadOnlyList<byte> referenceLabels, int batchSize = 2000)
    {
        using var eval = EvalMode.Of(classifier);
        using var noGrad = no_grad();
        var counts = new long[10];
        double confidence = 0;
        long n = images.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            Tensor probabilities = nn.functional.softmax(classifier.forward(images.narrow(0, start, Math.Min(batchSize, n - start))), 1);
            (Tensor top, Tensor label) = probabilities.max(1);
            confidence += top.to_type(ScalarType.Float64).sum().item<double>();
            foreach (long l in label.data<long>().ToArray()) counts[l]++;
        }
        var reference = new double[10];
        foreach (byte l in referenceLabels) reference[l]++;
        for (int d = 0; d < 10; d++) reference[d] /= referenceLabels.Count;
        return new DigitCensus(counts, counts.Select(c => (double)c / n).ToArray(), confidence / n, reference);
    }
}
