using System.Diagnostics;
using System.Globalization;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Sampling;

namespace LatentDiffusion.Bench;

/// <summary>
/// Whether two one-thread workers beat one team of two: 10,000 digits generated on the process's first thread with its
/// libtorch team (batches of 1000 and 2000), against the same count split between two OS threads that each run
/// libtorch on one thread (batches of 250, 500 and 1000 each), alternately, <c>repeat</c> rounds after a warm-up of
/// each. The split's halves use seeds 0 and 1, so its digits are not the team's: a timing, not a sampler.
/// </summary>
public static class WorkerSplit
{
    public static string Run(string modelPath, string vaePath, int steps, int repeat, Action<string> log)
    {
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
        using (unet)
        using (Vae vae = ModelFile.LoadVae(vaePath))
        {
            var options = new SamplingOptions { Steps = steps };
            const int count = 10_000;
            double Team(int batch)
            {
                var watch = Stopwatch.StartNew();
                using (LatentDiffusionSampler.Generate(unet, config, vae, count, 0, options with { BatchSize = batch })) { }
                return watch.Elapsed.TotalSeconds;
            }
            double Split(int batch)
            {
                var watch = Stopwatch.StartNew();
                Thread[] workers = [.. Enumerable.Range(0, 2).Select(i => new Thread(() =>
                {
                    using IDisposable one = TorchThreads.Use(1);
                    using (LatentDiffusionSampler.Generate(unet, config, vae, count / 2, i, options with { BatchSize = batch })) { }
                }))];
                foreach (Thread t in workers) t.Start();
                foreach (Thread t in workers) t.Join();
                return watch.Elapsed.TotalSeconds;
            }
            (string Name, Func<double> Time)[] arms =
                [("team, batch 1000", () => Team(1000)), ("team, batch 2000", () => Team(2000)),
                 ("2 x 1 thread, batch 250", () => Split(250)), ("2 x 1 thread, batch 500", () => Split(500)), ("2 x 1 thread, batch 1000", () => Split(1000))];
            foreach (var arm in arms) arm.Time();                                           // warm-up: oneDNN primitives, allocator
            var runs = arms.ToDictionary(a => a.Name, _ => new List<double>());
            for (int r = 0; r < repeat; r++)
                foreach (var arm in arms) runs[arm.Name].Add(arm.Time());
            foreach (var (name, times) in runs)
                log(string.Create(CultureInfo.InvariantCulture, $"{name}: median {Statistics.Median(times):F2} s ({string.Join(", ", times.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))})"));
            return System.Text.Json.JsonSerializer.Serialize(new
            {
                model = modelPath, vae = vaePath, steps, count, repeat, threads = TorchSharp.torch.get_num_threads(),
                rows = runs.Select(kv => new { arm = kv.Key, median_seconds = Statistics.Median(kv.Value), seconds = kv.Value }),
            });
        }
    }
}
