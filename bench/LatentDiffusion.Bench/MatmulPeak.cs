using System.Diagnostics;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <summary>One size's float32 matmul rate: n, the best and median GFLOP/s over the timed repeats.</summary>
public sealed record MatmulRate(int N, double BestGflops, double MedianGflops);

/// <summary>
/// The machine's float32 peak as a user would trust it: C = A·B through TorchSharp (libtorch's BLAS) on the threads
/// libtorch uses, 2n³ FLOPs a product, for square sizes 1024 to 4096; the peak is the best rate of any size.
/// </summary>
public static class MatmulPeak
{
    public static IReadOnlyList<MatmulRate> Measure(IReadOnlyList<int> sizes, int repeats = 5, Action<string>? log = null)
    {
        var rates = new List<MatmulRate>();
        foreach (int n in sizes)
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(1);
            Tensor a = randn([n, n], generator: generator), b = randn([n, n], generator: generator);
            using (mm(a, b)) { }                                                            // warm-up: threads, allocator
            var gflops = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                using Tensor c = mm(a, b);
                double seconds = watch.Elapsed.TotalSeconds;
                gflops.Add(2.0 * n * n * n / seconds / 1e9);
            }
            gflops.Sort();
            var rate = new MatmulRate(n, gflops[^1], gflops[gflops.Count / 2]);
            log?.Invoke($"matmul {n}x{n}: best {rate.BestGflops:F1} GFLOP/s, median {rate.MedianGflops:F1}");
            rates.Add(rate);
        }
        return rates;
    }
}
