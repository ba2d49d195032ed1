using System.Text.Json;
using LatentDiffusion.Onnx.Sampling;

namespace LatentDiffusion.Onnx;

/// <summary>
/// Digits from an exported UNet and VAE decoder on ONNX Runtime, without libtorch: noise (batch, C, h, w) → the sampler
/// → latents ÷ latent scale → decoder → clipped to [0, 1]: the library's <c>LatentDiffusionSampler.Generate</c>. Images
/// come back as (n, 1, 32, 32) float32 values in row-major order.
/// </summary>
public sealed class LiteGenerator : IDisposable
{
    /// <summary>The manifest <c>ldm export --onnx</c> writes beside the files.</summary>
    public const string ManifestFile = "ldm-onnx.json";

    LiteGenerator(OnnxNetwork unet, OnnxNetwork decoder)
    {
        UNet = unet;
        Decoder = decoder;
        if (!unet.Info.LatentShape.SequenceEqual(decoder.Info.LatentShape))
            throw new OnnxModelException(unet.Path, $"works on latents ({string.Join(", ", unet.Info.LatentShape)}) but the decoder {decoder.Path} takes ({string.Join(", ", decoder.Info.LatentShape)})");
    }

    public OnnxNetwork UNet { get; }

    public OnnxNetwork Decoder { get; }

    /// <summary>The UNet and decoder files.</summary>
    public static LiteGenerator Open(string unetPath, string decoderPath, RuntimeOptions? options = null)
    {
        OnnxNetwork unet = OnnxNetwork.Open(unetPath, ModelInfo.UNetKind, options);
        try
        {
            return new LiteGenerator(unet, OnnxNetwork.Open(decoderPath, ModelInfo.DecoderKind, options));
        }
        catch
        {
            unet.Dispose();
            throw;
        }
    }

    /// <summary>
    /// From a folder <c>ldm export --onnx</c> wrote: the UNet <c>NAME.onnx</c> and the decoder its manifest lists.
    /// </summary>
    public static LiteGenerator OpenFolder(string directory, string model, RuntimeOptions? options = null) =>
        Open(UNetFile(directory, model), FileOfKind(directory, ModelInfo.DecoderKind), options);

    /// <summary>DIR/NAME.onnx for the UNet <paramref name="model"/> (NAME or NAME.onnx) of a folder <c>ldm export --onnx</c> wrote.</summary>
    public static string UNetFile(string directory, string model) =>
        Path.Combine(directory, model.EndsWith(".onnx", StringComparison.Ordinal) ? model : model + ".onnx");

    /// <summary>
    /// The first file of <paramref name="kind"/> (<see cref="ModelInfo.DecoderKind"/>, …) that the manifest of
    /// <paramref name="directory"/> lists, as a path; a missing folder, manifest or file of that kind is an
    /// <see cref="OnnxModelException"/> naming it.
    /// </summary>
    public static string FileOfKind(string directory, string kind)
    {
        if (!Directory.Exists(directory)) throw new OnnxModelException(directory, "folder not found");
        string manifest = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifest)) throw new OnnxModelException(directory, $"has no {ManifestFile}: not a folder written by ldm export --onnx");
        string? file;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
            file = doc.RootElement.GetProperty("files").EnumerateArray()
                .Where(f => f.GetProperty("kind").GetString() == kind).Select(f => f.GetProperty("file").GetString()).FirstOrDefault();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OnnxModelException(manifest, $"unreadable manifest ({e.Message})", e);
        }
        return file is null
            ? throw new OnnxModelException(manifest, kind == ModelInfo.DecoderKind ? "lists no VAE decoder" : $"lists no {kind}")
            : Path.Combine(directory, file);
    }

    /// <summary>Why <paramref name="request"/> cannot run on this UNet, in words (null: it can).</summary>
    public string? Problem(LiteRequest request)
    {
        ModelInfo info = UNet.Info;
        if (request.Count < 1) return $"the count must be at least 1 (got {request.Count})";
        if (request.BatchSize < 1) return $"the batch size must be at least 1 (got {request.BatchSize})";
        string name = request.Sampler ?? info.DefaultSampler ?? "";
        SamplerInfo? fits = info.Samplers.FirstOrDefault(s => s.Name == name);
        string usable = string.Join(", ", info.Samplers.Where(s => LiteSamplers.Find(s.Name) is not null).Select(s => s.Name));
        if (fits is null) return $"the {name} sampler does not fit {UNet.Path} ({info.Objective}); use {usable}";
        if (LiteSamplers.Find(name) is null) return $"ldm-lite does not run the {name} sampler; use {usable}";
        int steps = request.Steps ?? fits.DefaultSteps;
        if (info.StudentSteps is { } allowed && !allowed.Contains(steps))
            return $"{UNet.Path} is a distilled student: it samples in {string.Join(", ", allowed)} steps (got {steps})";
        if (steps < 1) return $"steps must be at least 1 (got {steps})";
        if (fits.MaxSteps is int max && steps > max) return $"steps must be at most {max} (got {steps})";
        if (request.Eta is double eta && (!(eta >= 0) || double.IsInfinity(eta))) return $"eta must be a finite number ≥ 0 (got {eta})";
        if (request.Eta > 0 && name != "ddim") return "eta applies to the ddim sampler only";
        if (request.Labels is { } labels)
        {
            if (info.Classes == 0) return $"{UNet.Path} is an unconditional model: it cannot be asked for a digit";
            if (labels.Count != request.Count) return $"{labels.Count} labels for {request.Count} samples";
            if (labels.Any(l => l < 0 || l >= info.Classes)) return $"labels must be in 0..{info.Classes - 1}";
        }
        if (request.Guidance is double w && (!(w >= 0) || double.IsInfinity(w))) return $"guidance must be a finite number ≥ 0 (got {w})";
        if (request.GuidanceInterval is var (low, high) && !(low >= 0 && low <= high && high <= 1)) return $"the guidance interval must satisfy 0 ≤ low ≤ high ≤ 1 (got {low}, {high})";
        return null;
    }

    /// <summary>The sampler and steps <paramref name="request"/> resolves to.</summary>
    public (ILiteSampler Sampler, int Steps) Resolve(LiteRequest request)
    {
        if (Problem(request) is { } problem) throw new ArgumentException(problem);
        string name = request.Sampler ?? UNet.Info.DefaultSampler!;
        return (LiteSamplers.Find(name)!, request.Steps ?? UNet.Info.Samplers.First(s => s.Name == name).DefaultSteps);
    }

    /// <summary>
    /// <paramref name="request"/>'s digits: noise drawn from its seed, batch after batch, integrated and decoded.
    /// <paramref name="progress"/> gets (network steps done, total).
    /// </summary>
    public float[] Generate(LiteRequest request, Action<long, long>? progress = null)
    {
        (ILiteSampler sampler, int steps) = Resolve(request);
        int latent = UNet.Info.LatentShape.Aggregate(1, (a, d) => a * d);
        var noise = new Gaussian(request.Seed);
        var images = new List<float[]>();
        long total = (long)request.Count * steps, done = 0;
        for (int start = 0; start < request.Count; start += request.BatchSize)
        {
            int n = Math.Min(request.BatchSize, request.Count - start);
            float[] x = noise.Next(n * latent);
            long[]? labels = request.Labels?.Skip(start).Take(n).Select(l => (long)l).ToArray();
            long before = done;
            float[] z = SampleLatents(x, n, sampler, steps, request, labels, noise, s => progress?.Invoke(before + (long)s * n, total));
            done += (long)n * steps;
            images.Add(Decode(z, n));
        }
        return images.SelectMany(i => i).ToArray();
    }

    /// <summary>
    /// The sampler from the given initial noise <paramref name="x"/> (n, C, h, w), consumed: the scaled latents at data
    /// level. Labels null: unconditional.
    /// </summary>
    public float[] SampleLatents(float[] x, int n, ILiteSampler sampler, int steps, LiteRequest request, long[]? labels, Gaussian noise, Action<int>? progress = null)
    {
        ModelInfo info = UNet.Info;
        double timeScale = info.IsAlphaDeblending ? info.AlphaScale : info.Timesteps;           // the network's time at noise level 1
        (double Low, double High)? interval = request.GuidanceInterval
            ?? (info.GuidanceInterval is [double lo, double hi] ? (lo, hi) : null);
        (double, double)? scaled = interval is var (l, h) ? (l * timeScale - 1e-9, h * timeScale + 1e-9) : null;
        Denoiser network = labels is null
            ? UNetDenoiser.Plain(UNet)
            : UNetDenoiser.Guided(UNet, labels, request.Guidance ?? info.Guidance ?? 1, scaled);
        return sampler.Sample(network, x, n, steps, info, request.Eta ?? info.Eta, noise, progress);
    }

    /// <summary>Scaled latents (n, C, h, w) → images (n, 1, 32, 32) in [0, 1]: ÷ latent scale, decode, clip.</summary>
    public float[] Decode(float[] z, int n)
    {
        float scale = (float)UNet.Info.LatentScale;
        var unscaled = new float[z.Length];
        for (int i = 0; i < z.Length; i++) unscaled[i] = z[i] / scale;
        long[] shape = [n, .. Decoder.Info.LatentShape.Select(d => (long)d)];
        float[] image = Decoder.Run([("z", unscaled, shape)], "image")[0];
        for (int i = 0; i < image.Length; i++) image[i] = Math.Clamp(image[i], 0f, 1f);
        return image;
    }

    public void Dispose()
    {
        UNet.Dispose();
        Decoder.Dispose();
    }
}
