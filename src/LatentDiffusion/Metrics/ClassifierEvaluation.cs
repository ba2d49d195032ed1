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
        return Evaluate(model, x, y, batchSize, model.Config.Classes);
    }

    /// <summary>
    /// Runs the model in eval mode without autograd over <paramref name="inputs"/> (N, C, S, S) in batches and
    /// compares with <paramref name="targets"/> (N,). The model's train/eval mode is restored afterwards.
    /// </summary>
    public static EvaluationResult Evaluate(Classifier model, Tensor inputs, Tensor targets, int batchSize = 2000, int classes = 10)
    {
        long n = inputs.shape[0];
        if (targets.shape[0] != n) throw new ArgumentException($"{n} inputs but {targets.shape[0]} targets");
        return Evaluate(model, n, (start, len) => (inputs.narrow(0, start, len), targets.narrow(0, start, len)), batchSize, classes, inputs.device);
    }

    /// <summary>
    /// Evaluates on a split held as bytes, each batch made float on <paramref name="device"/> (default CPU) when it is
    /// reached; the classes are the model's.
    /// </summary>
    public static EvaluationResult Evaluate(Classifier model, LabelledImages split, int batchSize = 2000, Device? device = null)
    {
        device ??= CPU;
        return Evaluate(model, split.Count, (start, len) =>
        {
            Tensor x = split.Inputs(start, len, device);                                        // (B, C, S, S)
            using Tensor rows = arange(start, start + len, dtype: ScalarType.Int64);
            Tensor y = split.Targets(rows).to(device);                                          // (B,)
            return (x, y);
        }, batchSize, model.Config.Classes, device);
    }

    static EvaluationResult Evaluate(Classifier model, long n, Func<long, long, (Tensor X, Tensor Y)> batch, int batchSize, int classes, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var eval = EvalMode.Of(model);
        using var noGrad = no_grad();
        using var totals = NewDisposeScope();
        Tensor lossSum = zeros(1, ScalarType.Float64, device);
        Tensor confusion = zeros(classes * classes, ScalarType.Int64, device);
        for (long start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - start);
            (Tensor x, Tensor y) = batch(start, len);
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
