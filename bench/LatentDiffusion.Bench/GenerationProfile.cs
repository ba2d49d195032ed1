using System.Diagnostics;
using System.Globalization;
using System.Text;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <summary>
/// Where generation's time goes: for each batch size, 10,000 digits split into their parts — the noise draw, one
/// network evaluation (the UNet in NCHW and channels-last), the Euler update, the decode (the decoder in its
/// configured layout and the other one), the finiteness checks and the copy to host memory — then the whole
/// <see cref="LatentDiffusionSampler.Generate"/> of the model's default sampler, as `ldm diffusion sample` runs it.
/// Each part is timed over all batches of one pass after a warm-up pass; the best of <c>repeats</c> passes.
/// </summary>
public static class GenerationProfile
{
    public sealed record Part(string Name, int Batch, double Seconds, double? Gflops);

    public static string Run(string modelPath, string vaePath, IReadOnlyList<int> batches, int count, int repeats, Action<string> log)
    {
        (UNet unet, DiffusionConfig config) = ModelFile.LoadDiffusion(modelPath);
        using var unetScope = unet;
        using Vae vae = ModelFile.LoadVae(vaePath);
        unet.eval();
        vae.eval();
        using var noGrad = no_grad();
        string widths = string.Join(",", config.UNet.Widths);
        double unetFlops = (widths == "64,128" ? FlopCounts.UNet64x128 : widths == "32,64" ? FlopCounts.UNet32x64 : double.NaN) * 1e6;
        double decoderFlops = FlopCounts.LatentDecoder * 1e6;
        bool decoderLast = vae.ChannelsLastLayout;
        var parts = new List<Part>();
        foreach (int batch in batches)
        {
            int passes = (count + batch - 1) / batch;
            using var generator = new Generator(0, CPU);
            long[] shape = [batch, .. config.LatentShape];
            using Tensor x = randn(shape, generator: generator);
            using Tensor xLast = ChannelsLast.Of(x);
            using Tensor t = full([batch], config.AlphaScale, dtype: ScalarType.Float32);
            using Tensor d = unet.forward(x, t);
            using Tensor decoded = vae.Decode(x);

            double Time(Action body)
            {
                for (int i = 0; i < passes; i++) { using var scope = NewDisposeScope(); body(); }   // warm-up
                double best = double.MaxValue;
                for (int r = 0; r < repeats; r++)
                {
                    var watch = Stopwatch.StartNew();
                    for (int i = 0; i < passes; i++) { using var scope = NewDisposeScope(); body(); }
                    best = Math.Min(best, watch.Elapsed.TotalSeconds);
                }
                return best;
            }
            void Add(string name, Action body, double? flopsPerDigit = null)
            {
                double s = Time(body);
                double? gflops = flopsPerDigit is double f ? (double)passes * batch * f / s / 1e9 : null;
                parts.Add(new Part(name, batch, s, gflops));
                log(string.Create(CultureInfo.InvariantCulture, $"batch {batch}: {name} {s:F3} s{(gflops is double g ? $" ({g:F0} GFLOP/s)" : "")}"));
            }
            Add("noise (randn)", () => randn(shape, generator: generator));
            Add("UNet forward, NCHW", () => unet.forward(x, t), unetFlops);
            Add("UNet forward, channels-last input", () => unet.forward(xLast, t), unetFlops);
            Add("Euler update (x + Δα·D)", () => x.add(d.mul(-1.0)));
            vae.ChannelsLastLayout = decoderLast;
            Add($"decode, {(decoderLast ? "channels-last" : "NCHW")} (configured)", () => vae.Decode(x.div(config.LatentScale)).clamp_(0.0, 1.0), decoderFlops);
            vae.ChannelsLastLayout = !decoderLast;
            Add($"decode, {(decoderLast ? "NCHW" : "channels-last")}", () => vae.Decode(x.div(config.LatentScale)).clamp_(0.0, 1.0), decoderFlops);
            vae.ChannelsLastLayout = decoderLast;
            foreach (int chunk in new[] { 125, 250 }.Where(c => c < batch))
            {
                Tensor Chunked() => cat(x.div(config.LatentScale).split(chunk).Select(part => vae.Decode(part)).ToArray(), 0).clamp_(0.0, 1.0);
                Add($"decode in chunks of {chunk}, {(decoderLast ? "channels-last" : "NCHW")}", () => Chunked(), decoderFlops);
                using var check = NewDisposeScope();
                double diff = vae.Decode(x.div(config.LatentScale)).clamp_(0.0, 1.0).sub(Chunked()).abs().max().item<float>();
                log(string.Create(CultureInfo.InvariantCulture, $"batch {batch}: chunks of {chunk} differ from the whole batch's decode by at most {diff:E2}"));
            }
            Add("finiteness checks (latents + images)", () => { _ = x.isfinite().all().item<bool>(); _ = decoded.isfinite().all().item<bool>(); });
            Add("copy to host (latents + images)", () => { x.cpu(); decoded.cpu(); });
            var options = new SamplingOptions { BatchSize = batch };
            var sw = new List<double>();
            for (int r = 0; r < repeats + 1; r++)
            {
                var watch = Stopwatch.StartNew();
                using (LatentSamples samples = LatentDiffusionSampler.Generate(unet, config, vae, passes * batch, 0, options)) { }
                sw.Add(watch.Elapsed.TotalSeconds);
            }
            double generate = sw.Skip(1).Min();
            int evaluations = options.EvaluationsFor(config);
            double total = evaluations * unetFlops + decoderFlops;
            parts.Add(new Part($"LatentDiffusionSampler.Generate ({options.Describe(config)}, {evaluations} NFE)", batch, generate, (double)passes * batch * total / generate / 1e9));
            log(string.Create(CultureInfo.InvariantCulture, $"batch {batch}: Generate {generate:F3} s"));
        }
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{count} digits; {Path.GetFileName(modelPath)} + {Path.GetFileName(vaePath)}; threads {get_num_threads()}; seconds per {count} digits (best of {repeats} after a warm-up)");
        text.AppendLine();
        text.AppendLine("| part | " + string.Join(" | ", batches.Select(b => $"batch {b}")) + " |");
        text.AppendLine("|---|" + string.Concat(batches.Select(_ => "---:|")));
        foreach (string name in parts.Select(p => p.Name).Distinct())
        {
            text.Append("| ").Append(name).Append(" |");
            foreach (int b in batches)
            {
                Part? p = parts.FirstOrDefault(q => q.Name == name && q.Batch == b);
                text.Append(p is null ? " – |" : string.Create(CultureInfo.InvariantCulture, $" {p.Seconds:F3}{(p.Gflops is double g ? $" ({g:F0} GFLOP/s)" : "")} |"));
            }
            text.AppendLine();
        }
        return text.ToString();
    }
}
