using System.Collections.Concurrent;

namespace LatentDiffusion.Server;

/// <summary>
/// The threads generations run on: a fixed few that live as long as the server. Sampling blocks its thread for
/// seconds, so it does not belong on the thread pool; and a new thread per generation costs memory that is not given
/// back (a new thread that calls into libtorch can get an allocator arena of its own: 20 generations, each on a new
/// thread, added ~50 MB of resident memory against ~20 MB on one thread, until glibc's arena limit capped it). The
/// <see cref="GenerationQueue"/> lets at most as many generations run as there are threads here, so work never waits
/// in this class's own queue for long.
/// </summary>
public sealed class GenerationThreads : IDisposable
{
    readonly BlockingCollection<Action> work = new();
    readonly Thread[] threads;

    public GenerationThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        threads = Enumerable.Range(0, count).Select(i => new Thread(Loop) { IsBackground = true, Name = $"ldm generation {i + 1}" }).ToArray();
        foreach (Thread thread in threads) thread.Start();
    }

    /// <summary>Runs <paramref name="body"/> on one of the threads; its result or exception (cancellation included) comes back through the task.</summary>
    public Task<T> Run<T>(Func<T> body)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try
            {
                result.SetResult(body());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        });
        return result.Task;
    }

    void Loop()
    {
        foreach (Action action in work.GetConsumingEnumerable()) action();
    }

    /// <summary>Lets the threads finish what they were given, then ends them.</summary>
    public void Dispose()
    {
        work.CompleteAdding();
        foreach (Thread thread in threads) thread.Join(TimeSpan.FromSeconds(30));
        work.Dispose();
    }
}
