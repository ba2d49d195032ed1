using System.Globalization;
using System.Text.Json;
using LatentDiffusion.Data;
using LatentDiffusion.Models;
using LatentDiffusion.Training;

namespace LatentDiffusion.Bench;

/// <summary>
/// Whole epochs of part 2's VAE as <c>ldm vae train</c> runs them with the post's settings (the shared
/// <see cref="Trainer{TModel}"/>, <see cref="VaeTask"/>, the post's <see cref="VaeConfig"/>, Adam 1e-3, batch 128, seed 0),
/// validated on the 10k test images and checkpointed after every epoch: each epoch's wall time from its start to its
/// checkpoint written. One untimed epoch first. The counterpart is <c>bench/pytorch_vae_epoch.py --epochs</c> (the post's
/// loop with its validation block every epoch, and no checkpoint).
/// </summary>
public static class VaeEpochBench
{
    public static string Run(string mnistDirectory, int epochs, bool channelsLast, Action<string> log)
    {
        MnistData data = MnistDataset.Load(mnistDirectory);
        var config = new VaeConfig { ChannelsLast = channelsLast };
        var task = new VaeTask(LabelledImages.FromIdx(data.Train), LabelledImages.FromIdx(data.Test), config);   // as ldm vae train: bytes, gathered per batch
        var clock = new EpochClock();
        string run = Path.Combine(Path.GetTempPath(), $"ldm-bench-vae-epochs-{Environment.ProcessId}");
        try
        {
            var training = TrainingConfig.Part2 with { Epochs = epochs + 1, LogEvery = 1, CheckpointEvery = 1 };
            using (new Trainer<Vae>(training, clock).Train(task, run))
            {
            }
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
        }
        double[] timed = [.. clock.WholeSeconds.Skip(1)];
        double median = Statistics.Median(timed);
        log(string.Create(CultureInfo.InvariantCulture, $"VAE whole epochs ({(channelsLast ? "channels-last" : "NCHW")}): {string.Join(", ", timed.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))} s"));
        return JsonSerializer.Serialize(new
        {
            tool = "LatentDiffusion (TorchSharp)",
            model = $"part 2 VAE (ConvEncoder [{string.Join(", ", config.EncoderFeatures)}], ConvDecoder [{string.Join(", ", config.DecoderFeatures)}])",
            channels_last = channelsLast,
            torch_threads = TorchSharp.torch.get_num_threads(),
            epochs,
            warmup_epochs = 1,
            epoch_seconds = timed,
            training_seconds = clock.Seconds.Skip(1).ToArray(),
            median_epoch_seconds = median,
        }, new JsonSerializerOptions { WriteIndented = true });
    }
}
