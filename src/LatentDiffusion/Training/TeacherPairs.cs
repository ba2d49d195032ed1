using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Sampling;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>What made a folder of teacher pairs; a folder made otherwise is not extended or reused.</summary>
public sealed record TeacherPairsSpec(string TeacherSha256, string Sampler, int Steps, long Seed, int BatchSize)
{
    /// <summary>Pairs per chunk file: <see cref="TeacherPairs.ChunkSize"/>, or fewer when fewer were asked for the first time.</summary>
    public int ChunkSize { get; init; } = TeacherPairs.ChunkSize;
}

/// <summary>
/// The teacher's (noise, sample) pairs that a student is distilled from (rectified flow's coupling, Liu et al. 2022,
/// §2.2: x1 ~ N(0, I) and the teacher's ODE solution from it): x1 and the scaled latent the teacher's sampler integrates
/// it to, both (N, C, 4, 4). Made in chunks of <see cref="ChunkSize"/> (fewer if fewer are asked for at first: the
/// folder keeps its first chunk size) — <c>chunk-0000.safetensors</c>, … each written
/// atomically with its spec in <c>pairs.json</c> — so an interrupted run keeps every finished chunk and a rerun makes
/// only the missing ones; asking for more pairs later adds chunks. Batch b of chunk c draws x1 from a generator seeded
/// (seed, c, b), and the teacher's sampler gets a second generator of the same seed, so its own first draw is that x1.
/// </summary>
public static class TeacherPairs
{
    public const int ChunkSize = 10_000;
    const string SpecFileName = "pairs.json";

    /// <summary>
    /// The first <paramref name="count"/> pairs in <paramref name="directory"/>, made first where missing. Returns
    /// (noise, samples) on the CPU, the caller's.
    /// </summary>
    public static (Tensor Noise, Tensor Samples) Ensure(string directory, UNet teacher, DiffusionConfig config, TeacherPairsSpec spec,
        int count, Action<long, long>? progress = null, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ISampler sampler = Samplers.Find(spec.Sampler) ?? throw new ArgumentException($"no sampler called {spec.Sampler}");
        var options = new SamplingOptions { Sampler = sampler, Steps = spec.Steps };
        if (options.Problem(config) is { } problem) throw new ArgumentException(problem);
        Directory.CreateDirectory(directory);
        spec = RequireSpec(directory, spec with { ChunkSize = Math.Min(ChunkSize, count) });
        int size = spec.ChunkSize;
        int chunks = (count + size - 1) / size;
        long total = (long)chunks * size, done = 0;
        for (int c = 0; c < chunks; c++)
        {
            string path = ChunkPath(directory, c);
            if (!File.Exists(path)) MakeChunk(path, c, teacher, config, sampler, spec, cancel, made => progress?.Invoke(done + made, total));
            done += size;
            progress?.Invoke(done, total);
        }
        return Load(directory, count, size);
    }

    static string ChunkPath(string directory, int chunk) => Path.Combine(directory, $"chunk-{chunk:D4}.safetensors");

    /// <summary>The folder's spec: <paramref name="spec"/>, written if the folder is new; an existing one must match it up to the chunk size, which it keeps.</summary>
    static TeacherPairsSpec RequireSpec(string directory, TeacherPairsSpec spec)
    {
        string path = Path.Combine(directory, SpecFileName);
        string json = JsonSerializer.Serialize(spec, new JsonSerializerOptions { WriteIndented = true });
        if (File.Exists(path))
        {
            TeacherPairsSpec? saved = null;
            try { saved = JsonSerializer.Deserialize<TeacherPairsSpec>(File.ReadAllText(path)); }
            catch (JsonException) { }
            if (saved is null || saved.ChunkSize < 1 || saved with { ChunkSize = spec.ChunkSize } != spec)
                throw new DataFormatException(directory, $"these pairs were made by another teacher or sampler ({SpecFileName}: {File.ReadAllText(path).ReplaceLineEndings(" ")}); give another --out or delete the folder");
            return saved;
        }
        if (Directory.EnumerateFiles(directory, "chunk-*.safetensors").Any())
            throw new DataFormatException(directory, $"holds pairs without {SpecFileName}; give another --out or delete the folder");
        AtomicFile.WriteAllText(path, json);
        return spec;
    }

    static void MakeChunk(string path, int chunk, UNet teacher, DiffusionConfig config, ISampler sampler, TeacherPairsSpec spec,
        CancellationToken cancel, Action<long> progress)
    {
        teacher.eval();
        using var noGrad = no_grad();
        using NoiseSchedule schedule = config.CreateSchedule();
        var noise = new List<Tensor>();
        var samples = new List<Tensor>();
        try
        {
            for (int start = 0, b = 0; start < spec.ChunkSize; start += spec.BatchSize, b++)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int n = Math.Min(spec.BatchSize, spec.ChunkSize - start);
                long[] shape = [n, .. config.LatentShape];
                ulong seed = unchecked((ulong)spec.Seed * 1_000_003UL + (ulong)chunk * 1_009UL + (ulong)b);
                using var noiseGenerator = new Generator(seed);
                using var samplerGenerator = new Generator(seed);
                Tensor x1 = randn(shape, generator: noiseGenerator);                                        // (n, C, 4, 4)
                Tensor x0 = sampler.Sample(new SamplerRun(teacher.forward, config, schedule, shape, samplerGenerator, spec.Steps, 0, null, null, 0));
                if (!x0.isfinite().all().item<bool>()) throw NonFiniteSamplesException.For($"the teacher's {spec.Sampler} {spec.Steps} steps", $"in chunk {chunk}, batch {b} of its pairs");
                noise.Add(x1.MoveToOuterDisposeScope());
                samples.Add(x0.MoveToOuterDisposeScope());
                progress(start + n);
            }
            using Tensor allNoise = cat(noise, 0), allSamples = cat(samples, 0);
            Safetensors.Save(path, new Dictionary<string, Tensor> { ["noise"] = allNoise, ["sample"] = allSamples });
        }
        finally
        {
            foreach (Tensor t in noise.Concat(samples)) t.Dispose();
        }
    }

    static (Tensor Noise, Tensor Samples) Load(string directory, int count, int chunkSize)
    {
        var noise = new List<Tensor>();
        var samples = new List<Tensor>();
        var loaded = new List<Tensor>();
        try
        {
            for (int c = 0, left = count; left > 0; c++, left -= chunkSize)
            {
                string path = ChunkPath(directory, c);
                (Dictionary<string, Tensor> tensors, _) = Safetensors.Load(path);
                loaded.AddRange(tensors.Values);
                int take = Math.Min(chunkSize, left);
                if (!tensors.TryGetValue("noise", out Tensor? x1) || !tensors.TryGetValue("sample", out Tensor? x0) || x1.shape[0] < take || !x1.shape.SequenceEqual(x0.shape))
                    throw new DataFormatException(path, "is not a chunk of teacher pairs (tensors noise and sample of equal shape); delete it to make it again");
                noise.Add(x1.narrow(0, 0, take));
                samples.Add(x0.narrow(0, 0, take));
            }
            return (cat(noise, 0), cat(samples, 0));
        }
        finally
        {
            foreach (Tensor t in noise.Concat(samples).Concat(loaded)) t.Dispose();
        }
    }
}
