using LatentDiffusion.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Training;

/// <summary>
/// One exponential moving average of a live model's weights: after every optimizer step
/// ema ← d·ema + (1 − d)·θ for each parameter, while buffers (e.g. BatchNorm statistics) are copied. Averaged weights
/// need BatchNorm statistics of their own before they are validated or saved (<see cref="AveragedBatchNorm"/>).
/// </summary>
internal sealed class WeightAverage<TModel> where TModel : nn.Module
{
    readonly (Tensor Ema, Tensor Live)[] parameters, buffers;   // matched once by name: the tensors stay the same objects

    /// <summary>The decay d.</summary>
    public double Decay { get; }

    /// <summary>The averaged weights, a model of the live one's architecture.</summary>
    public TModel Model { get; }

    /// <summary>Starts the average <paramref name="average"/> (same architecture) at <paramref name="live"/>'s weights.</summary>
    public WeightAverage(TModel average, TModel live, double decay)
    {
        Decay = decay;
        Model = average;
        using (no_grad())
        {
            var target = average.state_dict();
            foreach (var (name, t) in live.state_dict()) target[name].copy_(t);
        }
        var averaged = average.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var averagedBuffers = average.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        parameters = live.named_parameters().Select(p => (averaged[p.name], (Tensor)p.parameter)).ToArray();
        buffers = live.named_buffers().Select(b => (averagedBuffers[b.name], b.buffer)).ToArray();
    }

    /// <summary>One step of the average, after the live model's optimizer step.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        foreach (var (e, p) in parameters) e.mul_(Decay).add_(p, alpha: 1 - Decay);
        foreach (var (e, b) in buffers) e.copy_(b);
    }
}

/// <summary>
/// A run's weight averages: the main one (<see cref="TrainingConfig.EmaDecay"/>; validated, and saved as the model)
/// and the further decays of <see cref="Trainer{TModel}.EmaSweep"/> (updated alike, kept in the checkpoint, saved at
/// the end as <see cref="RunDirectory.SweepModelFileName"/>, never validated). None of them changes the training.
/// </summary>
internal sealed class WeightAverages<TModel> where TModel : nn.Module
{
    readonly WeightAverage<TModel>? main;
    readonly IReadOnlyList<WeightAverage<TModel>> sweep;

    WeightAverages(WeightAverage<TModel>? main, IReadOnlyList<WeightAverage<TModel>> sweep)
    {
        this.main = main;
        this.sweep = sweep;
        Sweep = sweep.Select(s => (s.Decay, (nn.Module)s.Model)).ToList();
    }

    /// <summary>The main average's weights, or null when the run has none (<see cref="TrainingConfig.EmaDecay"/> 0).</summary>
    public TModel? Main => main?.Model;

    /// <summary>The sweep's averages, as <see cref="Checkpoint"/> stores them.</summary>
    public IReadOnlyList<(double Decay, nn.Module Average)> Sweep { get; }

    /// <summary>
    /// Builds the averages beside <paramref name="live"/>, on <paramref name="device"/>, each starting at its weights. The
    /// main average is built from the global generator as the live model is (part of the run's trajectory); the sweep's
    /// are built with the global generator restored afterwards, so asking for a sweep leaves the run unchanged.
    /// </summary>
    public static WeightAverages<TModel> Create(ITrainingTask<TModel> task, TModel live, double decay, IReadOnlyList<double> sweepDecays, Device device)
    {
        foreach (double d in sweepDecays)
            if (!(d > 0 && d < 1)) throw new ArgumentOutOfRangeException(nameof(Trainer<TModel>.EmaSweep), d, "every decay of an EMA sweep must be in (0, 1)");
        WeightAverage<TModel>? main = decay > 0 ? Start(task.CreateModel(), live, decay, device) : null;
        List<TModel> models;
        using (Tensor globalState = get_rng_state())
        {
            models = sweepDecays.Select(_ => task.CreateModel()).ToList();
            set_rng_state(globalState);
        }
        return new WeightAverages<TModel>(main, models.Zip(sweepDecays, (m, d) => Start(m, live, d, device)).ToList());
    }

    static WeightAverage<TModel> Start(TModel average, TModel live, double decay, Device device)
    {
        average.to(device);
        return new WeightAverage<TModel>(average, live, decay);
    }

    /// <summary>One step of every average (the main one first), after the live model's optimizer step.</summary>
    public void Update()
    {
        main?.Update();
        foreach (WeightAverage<TModel> average in sweep) average.Update();
    }

    /// <summary>
    /// Gives each sweep average its own BatchNorm statistics, saves it in eval mode as
    /// <see cref="RunDirectory.SweepModelFileName"/> in <paramref name="runDirectory"/> and disposes it.
    /// </summary>
    public void SaveSweep(ITrainingTask<TModel> task, TrainingConfig config, string runDirectory, Device device)
    {
        foreach (WeightAverage<TModel> average in sweep)
        {
            AveragedBatchNorm.Recompute(task, average.Model, config.BatchSize, config.Seed, device);
            average.Model.eval();
            ModelWeights.Save(average.Model, Path.Combine(runDirectory, RunDirectory.SweepModelFileName(average.Decay)),
                RunDirectory.Metadata(task.Architecture, task.Settings, config, task.Data));
            average.Model.Dispose();
        }
    }
}
