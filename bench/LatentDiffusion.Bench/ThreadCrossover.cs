using System.Diagnostics;
using System.Globalization;
using System.Text;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Metrics;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Sampling;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <summary>
/// Where one libtorch thread beats two for a whole generation, as the server runs one: <see cref="LatentDiffusionSampler.Generate"/>
/// with the model's default sampler and steps, then <see cref="DigitReading.Read"/>, for each count of digits, on one
/// thread and on the process's count alternately (<see cref="TorchThreads.Use"/> on this thread), after a warm-up of each.
/// Reported per count: the median and best milliseconds of each and the ratio of the medians (one thread / many).
/// </summary>
public static class ThreadCrossover
{
    public static string Run(string modelPath, string vaePath, string classifierPath, IReadOnlyList<int> counts, int repeats, Action<string> log)
    {
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
        using var unetScope = unet;
        using Vae vae = ModelFile.LoadVae(vaePath);
        using Classifier classifier = ModelFile.LoadClassifier(classifierPath);
        int many = get_num_threads();
        var options = new SamplingOptions();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Path.GetFileName(modelPath)}, {options.Describe(config)}; 1 thread against {many}; {repeats} alternating pairs, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        text.AppendLine("| digits | 1 thread: median / best ms | " + many + " threads: median / best ms | ratio of medians (1 / " + many + ") |");
        text.AppendLine("|---:|---:|---:|---:|");
        foreach (int count in counts)
        {
            double Once(int threads)
            {
                using var use = TorchThreads.Use(threads);
                var watch = Stopwatch.StartNew();
                using (LatentSamples samples = LatentDiffusionSampler.Generate(unet, config, vae, count, 0, options))
                    _ = DigitReading.Read(classifier, samples.Images);
                return watch.Elapsed.TotalMilliseconds;
            }
            Once(1);
            Once(many);
            var one = new List<double>();
            var all = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                one.Add(Once(1));
                all.Add(Once(many));
            }
            double m1 = Statistics.Median(one), mm = Statistics.Median(all);
            string row = string.Create(CultureInfo.InvariantCulture, $"| {count} | {m1:F1} / {one.Min():F1} | {mm:F1} / {all.Min():F1} | {m1 / mm:F2} |");
            log(row);
            text.AppendLine(row);
        }
        return text.ToString();
    }
}
