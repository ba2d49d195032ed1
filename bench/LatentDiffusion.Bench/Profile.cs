using System.Diagnostics;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <summary>Where a training batch's time goes: forward, loss, backward and the Adam step timed apart (CPU ops are synchronous).</summary>
sealed record ProfileRow(string Variant, int Batches, double GatherMs, double ForwardMs, double BackwardMs, double StepMs, double TotalMs);

/// <summary>
/// Variants: <c>classifier</c> (Classifier.forward as shipped: channels-last, ReLU after each max pool),
/// <c>blog-order</c> (Classifier.ForwardThrough: channels-last, the blog's layer order), <c>nchw</c> (the shipped
/// order on NCHW memory) and <c>blog-order-nchw</c> (the blog's order on NCHW memory: what PyTorch runs).
/// </summary>
static class Profile
{
    public static IEnumerable<ProfileRow> Run(MnistData mnist, int batches, string[] variants, Action<string> log)
    {
        using Tensor xTrain = mnist.Train.ToInputs();
        using Tensor yTrain = mnist.Train.ToTargets();
        foreach (string variant in variants)
        {
            torch.manual_seed(0);
            var model = new Classifier();
            using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
            model.train();
            using var order = randperm(xTrain.shape[0]);
            double gather = 0, forward = 0, backward = 0, step = 0;
            var total = Stopwatch.StartNew();
            var watch = new Stopwatch();
            for (int b = 0; b < batches + 20; b++)
            {
                if (b == 20) { gather = forward = backward = step = 0; total.Restart(); }   // 20 warm-up batches
                using var scope = NewDisposeScope();
                watch.Restart();
                Tensor index = order.narrow(0, (b * 256L) % 59904, 256);
                Tensor x = xTrain.index_select(0, index);
                Tensor y = yTrain.index_select(0, index);
                gather += watch.Elapsed.TotalMilliseconds; watch.Restart();
                optimizer.zero_grad();
                Tensor logits = variant switch
                {
                    "nchw" => ForwardNchw(model, x, reluAfterPool: true),
                    "blog-order-nchw" => ForwardNchw(model, x, reluAfterPool: false),
                    "blog-order" => model.ForwardThrough(x, model.Layers.Count - 1),
                    "classifier" => model.forward(x),
                    _ => throw new ArgumentException($"unknown profile variant '{variant}' (classifier, blog-order, nchw, blog-order-nchw)"),
                };
                Tensor loss = nn.functional.cross_entropy(logits, y);
                forward += watch.Elapsed.TotalMilliseconds; watch.Restart();
                loss.backward();
                backward += watch.Elapsed.TotalMilliseconds; watch.Restart();
                optimizer.step();
                step += watch.Elapsed.TotalMilliseconds;
            }
            double totalMs = total.Elapsed.TotalMilliseconds;
            var row = new ProfileRow(variant, batches, gather / batches, forward / batches, backward / batches, step / batches, totalMs / batches);
            log($"{row.Variant,-14} gather {row.GatherMs,6:F2}  forward {row.ForwardMs,6:F2}  backward {row.BackwardMs,6:F2}  step {row.StepMs,6:F2}  total {row.TotalMs,6:F2} ms/batch");
            model.Dispose();
            yield return row;
        }
    }

    /// <summary>
    /// The classifier's layers on the NCHW batch as given (no channels-last), with the ReLU before each max pool
    /// (the blog's order) or after it (the shipped order).
    /// </summary>
    static Tensor ForwardNchw(Classifier model, Tensor x, bool reluAfterPool)
    {
        var l = model.Layers;
        Tensor h = x;
        for (int i = 0; i < l.Count; i++)
        {
            var layer = (nn.Module<Tensor, Tensor>)l[i];
            if (reluAfterPool && (i == 1 || i == 4)) continue;                          // ReLU moved after the pool
            h = layer.forward(h);
            if (reluAfterPool && (i == 2 || i == 5)) h = h.relu_();
        }
        return h;
    }
}
