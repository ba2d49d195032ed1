using System.Diagnostics;
using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Metrics;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using LatentDiffusion.Native;
using LatentDiffusion.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Bench;

/// <param name="TimedEpochs">Epochs whose times are reported (median), after <paramref name="WarmupEpochs"/>.</param>
/// <param name="TrainOnly">Skip inference and FID (for the alternating comparison with PyTorch).</param>
sealed record BenchOptions(int TimedEpochs = 3, int WarmupEpochs = 1, bool TrainOnly = false, string? DataDirectory = null, string? ModelPath = null)
{
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(TimedEpochs);
        ArgumentOutOfRangeException.ThrowIfNegative(WarmupEpochs);
    }
}

/// <summary>Threads and the OpenMP environment libtorch ran with.</summary>
sealed record RuntimeInfo(string Cpu, int Cores, int TorchThreads, int TorchInteropThreads, IReadOnlyDictionary<string, string> OmpEnvironment, string TorchSharp);

/// <summary>Training: per-epoch seconds of the timed epochs, their median, and RSS after every epoch (warm-up included).</summary>
sealed record TrainingBench(int Epochs, int WarmupEpochs, double[] EpochSeconds, double MedianEpochSeconds,
    double[] RssMiBAfterEpoch, double? RssGrowthPercent, double FinalValidationAccuracy);

sealed record InferenceBench(int Images, double Seconds, double Accuracy);

sealed record FidBench(int ImagesA, int ImagesB, double Seconds, double Fid, string Features);

sealed record BenchResult(string Tool, RuntimeInfo Runtime, TrainingBench Training, InferenceBench? Inference, FidBench? Fid, double? PeakRssMiB)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string Summary()
    {
        var lines = new List<string>
        {
            $"{Runtime.Cpu}, cores {Runtime.Cores}, torch threads {Runtime.TorchThreads}, interop threads {Runtime.TorchInteropThreads}, " +
            $"OMP env: {(Runtime.OmpEnvironment.Count == 0 ? "(none)" : string.Join(" ", Runtime.OmpEnvironment.Select(kv => $"{kv.Key}={kv.Value}")))}",
            $"training: median {Training.MedianEpochSeconds:F3} s/epoch over {Training.Epochs} epochs " +
            $"[{string.Join(", ", Training.EpochSeconds.Select(s => s.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}] " +
            $"after {Training.WarmupEpochs} warm-up; val accuracy {Training.FinalValidationAccuracy:P2}",
            $"RSS after each epoch (MiB): [{string.Join(", ", Training.RssMiBAfterEpoch.Select(r => r.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}], " +
            $"growth epoch 2 → last {(Training.RssGrowthPercent is double g ? $"{g:F2} %" : "n/a")}",
        };
        if (Inference is not null) lines.Add($"inference: {Inference.Images} images in {Inference.Seconds:F3} s, accuracy {Inference.Accuracy:P2}");
        if (Fid is not null) lines.Add($"FID {Fid.ImagesA} vs {Fid.ImagesB} ({Fid.Features}): {Fid.Fid:F4} in {Fid.Seconds:F3} s after model load");
        if (PeakRssMiB is double peak) lines.Add($"peak RSS {peak:F0} MiB");
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>
/// The classifier benchmark on the real MNIST: the trainer's seconds per epoch, 10k-image inference, FID of the
/// test set against the first 10k training images with the shipped classifier, and RSS.
/// </summary>
static class Benchmark
{
    public static BenchResult Run(BenchOptions options, Action<string> log)
    {
        options.Validate();
        TorchRuntime.EnsureLoaded();
        string dataDir = options.DataDirectory ?? MnistDataset.DefaultDirectory;
        log($"loading MNIST from {dataDir}");
        MnistData mnist = MnistDataset.Load(dataDir);
        RuntimeInfo runtime = Runtime();

        TrainingBench training = Train(mnist, options, log);
        InferenceBench? inference = null;
        FidBench? fid = null;
        if (!options.TrainOnly)
        {
            string modelPath = options.ModelPath ?? RepositoryPaths.Find("models/classifier.safetensors")
                ?? throw new FileNotFoundException("models/classifier.safetensors not found; pass --model");
            var classifier = new Classifier();
            ModelWeights.Load(classifier, modelPath);
            classifier.eval();
            inference = Infer(classifier, mnist.Test);
            log($"inference: {inference.Seconds:F3} s");
            fid = Fid(classifier, mnist, ModelWeights.Sha256(modelPath));
            log($"FID: {fid.Seconds:F3} s");
        }
        return new BenchResult("LatentDiffusion (TorchSharp)", runtime, training, inference, fid, ProcessMemory.PeakRssMiB());
    }

    /// <summary>"model name" of /proc/cpuinfo (Linux), else the OS architecture.</summary>
    static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null && line.IndexOf(':') is int colon and >= 0) return line[(colon + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString();
    }

    internal static RuntimeInfo Runtime()
    {
        var omp = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("OMP_", StringComparison.Ordinal) || k.StartsWith("KMP_", StringComparison.Ordinal) || k == "MKL_NUM_THREADS")
            .OrderBy(k => k, StringComparer.Ordinal)
            .ToDictionary(k => k, k => Environment.GetEnvironmentVariable(k) ?? "");
        return new RuntimeInfo(CpuModel(), Environment.ProcessorCount, torch.get_num_threads(), torch.get_num_interop_threads(), omp,
            typeof(torch).Assembly.GetName().Version?.ToString() ?? "?");
    }

    static TrainingBench Train(MnistData mnist, BenchOptions options, Action<string> log)
    {
        int total = options.WarmupEpochs + options.TimedEpochs;
        // Validation and the checkpoint only after the last epoch, outside the timed span (see EpochClock).
        var config = new TrainingConfig { Epochs = total, LogEvery = total, CheckpointEvery = total };
        var clock = new EpochClock();
        string runDir = Path.Combine(Path.GetTempPath(), $"ldm-bench-{Environment.ProcessId}");
        try
        {
            log($"training {options.WarmupEpochs} warm-up + {options.TimedEpochs} timed epochs");
            TrainingResult<Classifier> result = ClassifierTask.Train(config, mnist.Train, mnist.Test, runDir, observer: clock);
            result.Model.Dispose();
            double[] timed = clock.Seconds.Skip(options.WarmupEpochs).ToArray();
            double[] rss = clock.RssMiB.ToArray();
            // Growth from epoch 2 (the first after the allocator has seen a whole epoch) to the last.
            double? growth = rss.Length >= 3 ? 100 * (rss[^1] - rss[1]) / rss[1] : null;
            return new TrainingBench(timed.Length, options.WarmupEpochs, timed, Statistics.Median(timed), rss, growth, result.History[^1].ValAccuracy);
        }
        finally
        {
            if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        }
    }

    static InferenceBench Infer(Classifier classifier, MnistSplit test)
    {
        using Tensor x = test.ToInputs();
        using Tensor y = test.ToTargets();
        ClassifierEvaluation.Evaluate(classifier, x, y);   // warm-up
        var watch = Stopwatch.StartNew();
        EvaluationResult result = ClassifierEvaluation.Evaluate(classifier, x, y);
        return new InferenceBench(result.Count, watch.Elapsed.TotalSeconds, result.Accuracy);
    }

    static FidBench Fid(Classifier classifier, MnistData mnist, string sha256)
    {
        IdxImages test = mnist.Test.Images;
        IdxImages train = mnist.Train.Images;
        int count = test.Count;
        var firstTrain = train with { Count = count, Pixels = train.Pixels[..(count * train.Rows * train.Cols)] };
        var calculator = new FidCalculator(classifier, classifierSha256: sha256);
        calculator.StatisticsOfIdx(firstTrain);   // warm-up: first-call allocations of libtorch's kernels
        var watch = Stopwatch.StartNew();
        FeatureStatistics a = calculator.StatisticsOfIdx(test);
        FeatureStatistics b = calculator.StatisticsOfIdx(firstTrain);
        FidResult fid = calculator.Compute(a, b);
        return new FidBench(count, count, watch.Elapsed.TotalSeconds, fid.Fid, FidCalculator.FeatureName(fid.Features));
    }
}
