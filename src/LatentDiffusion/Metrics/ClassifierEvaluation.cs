using LatentDiffusion.Data;
using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Metrics;

/// <summary>Accuracy, per-class accuracy and the confusion matrix of a classifier on a labelled set.</summary>
/// <param name="Confusion">Confusion[true][predicted] counts.</param>
public sealed record EvaluationResult(int Count, double Loss, double Accuracy, double[] PerClassAccuracy, long[][] Confusion)
{
    public long Correct => Enumerable.Range(0, Confusion.Length).Sum(i => Confusion[i][i]);
}

public static class ClassifierEvaluation
{
    /// <summary>Evaluates on a whole split, preprocessed as in training.</summary>
    public static EvaluationResult Evaluate(Classifier model, MnistSplit split, int batchSize = 2000)
    {
        using Tensor x = split.ToInputs();   // (N, 1, 32, 32)
        using Tensor y = split.ToTargets();  // (N,)
        return Evaluate(model, x, y, batchSize);
    }

    /// <summary>
    /// Runs the model in eval mode without autograd over <paramref name="inputs"/> (N, 1, 32, 32) in batches and
    /// compares with <paramref name="targets"/> (N,). The model's train/eval mode is restored afterwards.
    /// </summary>
    public static EvaluationResult Evaluate(Classifier model, Tensor inputs, Tensor targets, int batchSize = 2000, int classes = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        long n = inputs.shape[0];
        if (targets.shape[0] != n) throw new ArgumentException($"{n} inputs but {targets.shape[0]} targets");
        using var eval = EvalMode.Of(model);
        using var noGrad = no_grad();
        using var totals = NewDisposeScope();
        Tensor lossSum = zeros(1, ScalarType.Float64, inputs.device);
        Tensor confusion = zeros(classes * classes, ScalarType.Int64, inputs.device);
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            Tensor x = inputs.narrow(0, start, len);
            Tensor y = targets.narrow(0, start, len);
            Tensor logits = model.forward(x);
            lossSum.add_(nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64));
            Tensor predicted = logits.argmax(1);
            confusion.index_add_(0, y * classes + predicted, ones_like(y), 1);
        }
        long[] flat = confusion.cpu().data<long>().ToArray();
        long[][] matrix = Enumerable.Range(0, classes).Select(i => flat.AsSpan(i * classes, classes).ToArray()).ToArray();
        double[] perClass = matrix.Select((row, i) => row.Sum() == 0 ? double.NaN : (double)row[i] / row.Sum()).ToArray();
        long correct = Enumerable.Range(0, classes).Sum(i => matrix[i][i]);
        return new EvaluationResult((int)n, lossSum.item<double>() / n, (double)correct / n, perClass, matrix);
    }
}
