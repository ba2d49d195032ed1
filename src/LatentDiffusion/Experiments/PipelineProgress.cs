using System.Diagnostics;
using System.Globalization;
using LatentDiffusion.Training;
using static TorchSharp.torch;

namespace LatentDiffusion.Experiments;

/// <summary>What a running <see cref="Pipeline"/> tells its host. Implement only what you need.</summary>
public interface IPipelineObserver
{
    /// <summary>A one-line note: what the data loader met (skips, conversions), the plan, a budget that cannot be met.</summary>
    void Notice(string line) { }

    /// <summary>A stage started, finished or was skipped, or its epochs were measured: one line with the pipeline's elapsed time and ETA.</summary>
    void Progress(PipelineProgress progress) { }

    /// <summary>Observes each stage's training (epochs, batches, logs), or null.</summary>
    ITrainingObserver? Training => null;

    /// <summary>Observes the last stage, the FID table (sampling progress, rows as they come). Default: silent.</summary>
    IExperimentObserver Report => SilentObserver.Instance;

    /// <summary>
    /// Called around each stage's training, where the pipeline's stop token is honoured cleanly (between batches, at a
    /// checkpoint); disposed when the stage ends. Outside these sections (loading, timing, publishing) a host may end
    /// the process at once: every file is written atomically.
    /// </summary>
    IDisposable? StopSection() => null;
}

/// <summary>One progress line of a pipeline.</summary>
/// <param name="Stage">1-based index of the stage.</param>
/// <param name="Name">The stage's name in the model set.</param>
/// <param name="Event">started, epoch (its epochs were measured), finished or skipped.</param>
/// <param name="Detail">What happened, for people.</param>
/// <param name="ElapsedSeconds">Since the pipeline started in this process.</param>
/// <param name="EtaSeconds">Estimated seconds until the whole pipeline is done.</param>
public sealed record PipelineProgress(int Stage, int Stages, string Name, string Event, string Detail, double ElapsedSeconds, double EtaSeconds)
{
    public override string ToString() =>
        $"[{Stage}/{Stages}] {Name}: {Detail} ({Duration(ElapsedSeconds)} elapsed; pipeline ETA {(EtaSeconds > 0 ? Duration(EtaSeconds) : "done")})";

    /// <summary>"0.4 s", "42 s", "3.5 min", "2.1 h".</summary>
    public static string Duration(double seconds) => seconds switch
    {
        < 10 => string.Create(CultureInfo.InvariantCulture, $"{seconds:F1} s"),
        < 90 => string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s"),
        < 5400 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:F1} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:F1} h"),
    };
}

/// <summary>
/// The pipeline's ETA: the running stage's remaining epochs at its measured seconds per epoch (wall time since it
/// started in this process over the epochs it finished, validation and checkpoints included), and every later stage's
/// epochs at the plan's timed estimate, scaled by the ratio of measured to estimated seconds of the epochs finished
/// in the last stage trained in this process. Before the first epoch is measured, the estimates alone.
/// </summary>
sealed class PipelineEta(PipelinePlan plan, Stopwatch clock)
{
    readonly PipelinePlan plan = plan;
    readonly Stopwatch clock = clock;
    readonly int[] epochsDone = new int[plan.Stages.Count];
    int running = -1, firstEpoch = 1;
    double stageStart, measuredSeconds, estimatedSeconds;   // this process's measured epochs, and their estimates

    public double Elapsed => clock.Elapsed.TotalSeconds;

    /// <summary>Measured over estimated seconds of the epochs finished in this process (1 before any).</summary>
    double Correction => estimatedSeconds > 0 ? measuredSeconds / estimatedSeconds : 1;

    /// <summary>Stage <paramref name="stage"/> needs no more training (finished, or found finished).</summary>
    public void Done(int stage) => epochsDone[stage] = plan.Stages[stage].Epochs;

    public double Remaining()
    {
        double total = 0;
        for (int i = 0; i < plan.Stages.Count; i++)
        {
            StagePlan s = plan.Stages[i];
            int left = s.Epochs - epochsDone[i];
            total += i == running && EpochSeconds() is { } measured ? left * measured : left * s.EpochSeconds * Correction;
        }
        return total;
    }

    /// <summary>The running stage's measured seconds per epoch, or null before one finished.</summary>
    double? EpochSeconds()
    {
        int finished = epochsDone[running] - (firstEpoch - 1);
        return finished > 0 ? (Elapsed - stageStart) / finished : null;
    }

    /// <summary>An observer of stage <paramref name="stage"/>'s training that keeps the ETA and passes every call on to <paramref name="inner"/>.</summary>
    public ITrainingObserver Observe(int stage, ITrainingObserver? inner, Action<string> measured) => new Observer(this, stage, inner, measured);

    sealed class Observer(PipelineEta eta, int stage, ITrainingObserver? inner, Action<string> measured) : ITrainingObserver
    {
        public void TrainingStarted(nn.Module model, int firstEpoch)
        {
            eta.running = stage;
            eta.firstEpoch = firstEpoch;
            eta.epochsDone[stage] = firstEpoch - 1;
            eta.stageStart = eta.Elapsed;
            inner?.TrainingStarted(model, firstEpoch);
        }

        public void EpochStarted(int epoch, int epochs, int batches)
        {
            if (epoch > eta.firstEpoch) Finished(epoch - 1);
            inner?.EpochStarted(epoch, epochs, batches);
        }

        public void BatchFinished(int epoch, int batch) => inner?.BatchFinished(epoch, batch);

        public void EpochLogged(EpochLog log) => inner?.EpochLogged(log);

        public void CheckpointWritten(int epoch, string path)
        {
            if (epoch == eta.plan.Stages[stage].Epochs) Finished(epoch);   // the last epoch: no next one starts
            inner?.CheckpointWritten(epoch, path);
        }

        void Finished(int epoch)
        {
            if (eta.epochsDone[stage] >= epoch) return;
            eta.epochsDone[stage] = epoch;
            eta.measuredSeconds = eta.Elapsed - eta.stageStart;
            eta.estimatedSeconds = (epoch - eta.firstEpoch + 1) * eta.plan.Stages[stage].EpochSeconds;
            if (epoch == eta.firstEpoch)
                measured(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch} of {eta.plan.Stages[stage].Epochs} took {PipelineProgress.Duration(eta.measuredSeconds)} (estimated {PipelineProgress.Duration(eta.estimatedSeconds)})"));
        }
    }
}
