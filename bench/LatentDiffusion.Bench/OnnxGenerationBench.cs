using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Export.Onnx;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Onnx;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;

namespace LatentDiffusion.Bench;

/// <summary>
/// Digits from the shipped conditional model, TorchSharp against ONNX Runtime, in one process: the same sampler and
/// steps (the model's defaults: α-deblending Euler, 50 steps), the same guidance (w and interval from Recipes), the same
/// batches of 1000 one digit each (as <c>--digit all -n N/10</c>), the same thread count for libtorch's intra-op pool and
/// ORT's. Each side runs a small warm-up first; the timed span is generation and decoding, not loading.
/// </summary>
public static class OnnxGenerationBench
{
    public sealed record Result(int Digits, int Threads, string Sampler, int Steps, double TorchSeconds, double OnnxSeconds, string Cpu)
    {
        public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
    }

    public static Result Run(int digits, int threads, Action<string> log)
    {
        string Model(string file) => ShippedFiles.Model(file);
        int[] labels = Enumerable.Range(0, digits).Select(i => i * 10 / digits).ToArray();            // 0…0, 1…1, …, 9…9
        var options = new SamplingOptions { Labels = labels, Guidance = Recipes.Guidance, GuidanceInterval = Recipes.GuidanceInterval };
        string dir = Path.Combine(Path.GetTempPath(), $"ldm-bench-onnx-{Environment.ProcessId}");
        try
        {
            OnnxExport.Export([Model(ShippedFiles.ConditionalFile), Model("latent-vae.safetensors")], dir);
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(Model(ShippedFiles.ConditionalFile));
            using var _ = unet;
            using Vae vae = ModelFile.LoadVae(Model("latent-vae.safetensors"));
            using LiteGenerator lite = LiteGenerator.OpenFolder(dir, "conditional", new RuntimeOptions { Threads = threads });
            var request = new LiteRequest { Count = digits, Labels = labels, BatchSize = options.BatchSize };
            (var sampler, int steps) = lite.Resolve(request);
            if (sampler.Name != options.SamplerFor(config).Name || steps != options.StepsFor(config))
                throw new InvalidOperationException("the two sides would not run the same sampler");

            log("warm-up");
            using (LatentDiffusionSampler.Generate(unet, config, vae, 20, 1, options with { Labels = labels[..20], Steps = 2 })) { }
            lite.Generate(request with { Count = 20, Labels = labels[..20], Steps = 2 });

            log($"TorchSharp: {digits} digits, {threads} threads");
            var clock = Stopwatch.StartNew();
            using (LatentDiffusionSampler.Generate(unet, config, vae, digits, 0, options)) { }
            double torchSeconds = clock.Elapsed.TotalSeconds;
            log($"  {torchSeconds:F1} s");

            log($"ONNX Runtime: {digits} digits, {threads} threads");
            clock.Restart();
            lite.Generate(request);
            double onnxSeconds = clock.Elapsed.TotalSeconds;
            log($"  {onnxSeconds:F1} s");
            return new Result(digits, threads, sampler.Name, steps, torchSeconds, onnxSeconds, Cpu());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    static string Cpu() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "?" : "?";
}
