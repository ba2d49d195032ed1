using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace LatentDiffusion.Native;

/// <summary>
/// Runs C# work on libtorch's own OpenMP thread team: <c>GOMP_parallel</c> of the libgomp that libtorch loaded, with a
/// C# function as the parallel region's body. Between two of libtorch's parallel regions its OpenMP workers spin,
/// waiting for the next one; a region of ours starts on them at once, where .NET threads (Parallel.For) would first
/// have to wake and then compete for the core the spinning worker holds — measured slower than one thread in a VAE step.
/// <para>
/// Linux with libtorch's libgomp only (TorchSharp-cpu's libtorch): anywhere else, with one torch thread, or inside a
/// parallel region, <see cref="Run"/> runs the parts one after another on the calling thread. The body must not call
/// libtorch (a nested region) and should not block.
/// </para>
/// </summary>
internal static unsafe class OpenMpTeam
{
    static readonly Lazy<Api?> Library = new(Find, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether <see cref="Run"/> can run parts in parallel here (libtorch's libgomp was found).</summary>
    public static bool Available => Library.Value is not null;

    /// <summary>
    /// The threads a region may use: libtorch's intra-op thread count (<c>torch.get_num_threads</c>), or 1 where
    /// <see cref="Available"/> is false or the caller is already inside a parallel region.
    /// </summary>
    public static int Threads
    {
        get
        {
            if (Library.Value is not { } api || api.InParallel() != 0) return 1;
            return Math.Max(1, torch.get_num_threads());
        }
    }

    /// <summary>
    /// Calls <paramref name="part"/>(p) for p = 0 … <paramref name="parts"/> − 1, each exactly once, spread over
    /// min(parts, <see cref="Threads"/>) threads of libtorch's team (part p on thread p mod threads), and returns when
    /// all have run. An exception from a part is rethrown here (the first one; the other parts still run).
    /// </summary>
    public static void Run(int parts, Action<int> part)
    {
        ArgumentNullException.ThrowIfNull(part);
        ArgumentOutOfRangeException.ThrowIfNegative(parts);
        int threads = parts <= 1 ? 1 : Math.Min(parts, Threads);
        if (threads <= 1)
        {
            for (int p = 0; p < parts; p++) part(p);
            return;
        }
        Api api = Library.Value!;
        var work = new Work(part, parts, api);
        GCHandle handle = GCHandle.Alloc(work);
        try
        {
            api.Parallel(&Body, (void*)GCHandle.ToIntPtr(handle), (uint)threads, 0);
        }
        finally
        {
            handle.Free();
        }
        work.Error?.Throw();
    }

    [UnmanagedCallersOnly]
    static void Body(void* data)
    {
        var work = (Work)GCHandle.FromIntPtr((nint)data).Target!;
        int thread = work.Api.ThreadNumber(), threads = work.Api.ThreadCount();
        for (int p = thread; p < work.Parts; p += threads)
        {
            try
            {
                work.Part(p);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref work.Error, ExceptionDispatchInfo.Capture(e), null);   // never let it unwind into C
            }
        }
    }

    sealed class Work(Action<int> part, int parts, Api api)
    {
        public readonly Action<int> Part = part;
        public readonly int Parts = parts;
        public readonly Api Api = api;
        public ExceptionDispatchInfo? Error;
    }

    sealed class Api(nint library)
    {
        public readonly delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void> Parallel =
            (delegate* unmanaged<delegate* unmanaged<void*, void>, void*, uint, uint, void>)NativeLibrary.GetExport(library, "GOMP_parallel");
        public readonly delegate* unmanaged<int> ThreadNumber = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "omp_get_thread_num");
        public readonly delegate* unmanaged<int> ThreadCount = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "omp_get_num_threads");
        public readonly delegate* unmanaged<int> InParallel = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "omp_in_parallel");
    }

    /// <summary>
    /// The libgomp mapped into this process by libtorch (after loading it): the one beside libtorch_cpu.so if several
    /// are mapped (TorchSharp-cpu ships its own, <c>libgomp-&lt;hash&gt;.so.1</c>), else the only one; null if none.
    /// </summary>
    static Api? Find()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            TorchRuntime.EnsureLoaded();
            var mapped = File.ReadLines("/proc/self/maps")
                .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
                .Where(fields => fields.Length == 6 && fields[5].StartsWith('/'))
                .Select(fields => fields[5].Trim())
                .Distinct()
                .ToList();
            string? torchDirectory = mapped.Where(p => Path.GetFileName(p) == "libtorch_cpu.so").Select(Path.GetDirectoryName).FirstOrDefault();
            var gomps = mapped.Where(p => Path.GetFileName(p).StartsWith("libgomp", StringComparison.Ordinal)).ToList();
            string? path = gomps.FirstOrDefault(p => Path.GetDirectoryName(p) == torchDirectory) ?? (gomps.Count == 1 ? gomps[0] : null);
            if (path is null) return null;
            return new Api(NativeLibrary.Load(path));   // already mapped: the same instance, a reference count more
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }
}
