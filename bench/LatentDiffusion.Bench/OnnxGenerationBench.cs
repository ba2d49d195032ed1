using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.Export.Onnx;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Onnx;
using LatentDiffusion.Onnx.Sampling;
using LatentDiffusion.Reports;
using TorchSharp;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;

namespace LatentDiffusion.Bench;

/// <summary>
/// Digits from a diffusion model (by default the shipped conditional one), TorchSharp against ONNX Runtime, in one
/// process: the same sampler and steps (the model's defaults: the conditional model's α-deblending Euler 50, a student's
/// finest grid), for a conditional model the same guidance (w and interval from Recipes) and the same batches of 1000
/// one digit each (as <c>--digit all -n N/10</c>), the same thread count for libtorch's intra-op pool and ORT's, and the
/// same initial noise: ORT integrates the very latents libtorch's generator drew for each batch (seed 0), so the two
/// image sets differ only by the engines' rounding and their FIDs can be compared at one sample size without the
/// seed-to-seed spread. Each side runs a small warm-up first; the timed span is generation and decoding, not loading.
/// With an output folder, both image sets are written there (torch/, onnx/: 28x28 PNGs for <c>ldm fid</c>).
/// </summary>
public static class OnnxGenerationBench
{
    public sealed record Result(int Digits, int Threads, string Sampler, int Steps, double TorchSeconds, double OnnxSeconds, string Cpu)
    {
        public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
    }

    public static Result Run(int digits, int threads, string? output, Action<string> log, string? modelPath = null, string? vaePath = null)
    {
        modelPath ??= ShippedFiles.Model(ShippedFiles.ConditionalFile);
        vaePath ??= ShippedFiles.Model("latent-vae.safetensors");
        string dir = Path.Combine(Path.GetTempPath(), $"ldm-bench-onnx-{Environment.ProcessId}");
        try
        {
            OnnxExport.Export([modelPath, vaePath], dir);
            (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
            using var _ = unet;
            using Vae vae = ModelFile.LoadVae(vaePath);
            int[]? labels = config.UNet.Classes > 0 ? Enumerable.Range(0, digits).Select(i => i * 10 / digits).ToArray() : null;   // 0…0, 1…1, …, 9…9
            var options = labels is null ? new SamplingOptions()
                : new SamplingOptions { Labels = labels, Guidance = Recipes.Guidance, GuidanceInterval = Recipes.GuidanceInterval };
            using LiteGenerator lite = LiteGenerator.OpenFolder(dir, Path.GetFileNameWithoutExtension(modelPath), new RuntimeOptions { Threads = threads });
            var request = new LiteRequest { Count = digits, Labels = labels, BatchSize = options.BatchSize };
            (var sampler, int steps) = lite.Resolve(request);
            if (sampler.Name != options.SamplerFor(config).Name || steps != options.StepsFor(config))
                throw new InvalidOperationException("the two sides would not run the same sampler");

            log("warm-up");
            int warmSteps = config.Student is null ? 2 : steps;
            using (LatentDiffusionSampler.Generate(unet, config, vae, 20, 1, options with { Labels = labels?[..20], Steps = warmSteps })) { }
            lite.Generate(request with { Count = 20, Labels = labels?[..20], Steps = warmSteps });

            log($"TorchSharp: {digits} digits, {threads} threads");
            var clock = Stopwatch.StartNew();
            using LatentSamples ours = LatentDiffusionSampler.Generate(unet, config, vae, digits, 0, options);
            double torchSeconds = clock.Elapsed.TotalSeconds;
            log($"  {torchSeconds:F1} s");

            log($"ONNX Runtime: {digits} digits, {threads} threads");
            clock.Restart();
            var images = new List<float>(digits * 32 * 32);
            using (var generator = new torch.Generator(0))                                 // the stream Generate drew from
                for (int start = 0; start < digits; start += options.BatchSize)
                {
                    int n = Math.Min(options.BatchSize, digits - start);
                    float[] x;
                    using (torch.Tensor noise = torch.randn([n, .. config.LatentShape], generator: generator)) x = noise.data<float>().ToArray();
                    long[]? batchLabels = labels?.Skip(start).Take(n).Select(l => (long)l).ToArray();
                    float[] z = lite.SampleLatents(x, n, sampler, steps, request, batchLabels, new Gaussian(0));
                    images.AddRange(lite.Decode(z, n));
                }
            double onnxSeconds = clock.Elapsed.TotalSeconds;
            log($"  {onnxSeconds:F1} s");
            if (output is not null)
            {
                ImageOutput.Write(ours.Images, Path.Combine(output, "torch"));
                using torch.Tensor theirs = torch.tensor(images.ToArray(), [digits, 1, 32, 32]);
                ImageOutput.Write(theirs, Path.Combine(output, "onnx"));
                log($"  wrote {output}/torch and {output}/onnx");
            }
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
