using static TorchSharp.torch;

namespace LatentDiffusion.Native;

/// <summary>
/// libtorch's intra-op thread count for the calling thread. libtorch runs its kernels and oneDNN's on OpenMP, whose
/// thread count is a per-thread setting: <c>torch.set_num_threads</c> sets the calling thread's (and the count a
/// thread starts with the first time it calls into libtorch), and leaves every other thread's as it was. So one thread
/// can run its work on one core while the rest of the process keeps its count.
/// <para>
/// Why a second thread wants one: libgomp gives every thread that forks a team a team of its own, and once its
/// OpenMP threads outnumber the cores it stops spinning between regions, so every op's fork waits for a sleeping
/// worker to wake. A whole generation on a second thread's team of two took about twice as long as on the first
/// thread's, as long as the first thread's with <c>OMP_WAIT_POLICY=PASSIVE</c>, and longer than on one thread
/// (bench/README.md, "Serving").
/// </para>
/// </summary>
public static class TorchThreads
{
    /// <summary>
    /// Sets the calling thread's libtorch thread count to <paramref name="count"/> until the result is disposed, which
    /// restores the count it had. Dispose it on the thread that called this.
    /// </summary>
    public static IDisposable Use(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        int before = get_num_threads();
        if (before != count) set_num_threads(count);
        return new Restore(before, count);
    }

    sealed class Restore(int before, int set) : IDisposable
    {
        int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0 && before != set) set_num_threads(before);
        }
    }
}
