namespace LatentDiffusion.Experiments;

/// <summary>
/// What an experiment tells its host while it runs: each long step with a progress callback (done, total), one-line
/// results as they come, and notes on what it left out. Every method has a silent default, so a host (or a test)
/// implements only what it shows.
/// </summary>
public interface IExperimentObserver
{
    /// <summary>Runs <paramref name="body"/>, one long step described by <paramref name="description"/>, with a progress callback.</summary>
    T Step<T>(string description, Func<Action<long, long>, T> body) => body(static (_, _) => { });

    /// <summary>One line of intermediate results, e.g. a sampler row's FID.</summary>
    void Result(string line) { }

    /// <summary>Something the experiment left out and why (a missing model, another VAE's model).</summary>
    void Note(string note) { }
}

/// <summary>An observer that shows nothing.</summary>
public sealed class SilentObserver : IExperimentObserver
{
    public static SilentObserver Instance { get; } = new();
}
