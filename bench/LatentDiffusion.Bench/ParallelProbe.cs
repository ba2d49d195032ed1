using System.Diagnostics;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Sampling;

namespace LatentDiffusion.Bench;

/// <summary>Scratch: 10,000 digits on the first thread's team against halves on two one-thread workers.</summary>
public static class ParallelProbe
{
    public static void Run(string modelPath, string vaePath, int repeat, Action<string> log)
    {
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
        using Vae vae = ModelFile.LoadVae(vaePath);
        var options = new SamplingOptions { Steps = int.Parse(Environment.GetEnvironmentVariable("LDM_PROBE_STEPS") ?? "1") };
        using (LatentDiffusionSampler.Generate(unet, config, vae, 1000, 0, options)) { }
        double Seq(int batch)
        {
            var w = Stopwatch.StartNew();
            using (LatentDiffusionSampler.Generate(unet, config, vae, 10_000, 0, options with { BatchSize = batch })) { }
            return w.Elapsed.TotalSeconds;
        }
        double Par(int workers, int batch)
        {
            var w = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, workers).Select(i => new Thread(() =>
            {
                using var one = TorchThreads.Use(1);
                using (LatentDiffusionSampler.Generate(unet, config, vae, 10_000 / workers, i, options with { BatchSize = batch })) { }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            return w.Elapsed.TotalSeconds;
        }
        Par(2, 500);
        for (int r = 0; r < repeat; r++)
        {
            log($"seq1000 {Seq(1000):F2}  seq2000 {Seq(2000):F2}  par2x500 {Par(2, 500):F2}  par2x1000 {Par(2, 1000):F2} par2x250 {Par(2, 250):F2}");
        }
    }
}
