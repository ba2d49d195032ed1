using System.Runtime.InteropServices;

namespace LatentDiffusion.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM while a command runs. Inside a <see cref="Graceful"/> section — training, sampling — the
/// first signal only asks to stop: <see cref="Token"/> is cancelled, the command finishes its current batch (or
/// sampling step), saves what can be resumed, writes nothing partial, and exits with <see cref="ExitCode"/> (130 for
/// SIGINT, 143 for SIGTERM: the codes a shell reports for a process the signal ended). A second signal, or a signal
/// outside such a section, ends the process at once as if no handler were installed; every file is written atomically,
/// so that too leaves nothing half-written.
/// </summary>
public sealed class StopSignal
{
    CancellationTokenSource source = new();
    int sections;
    int received;   // the PosixSignal number of the first signal, 0 while none has come

    /// <summary>Cancelled at the first signal that arrives inside a graceful section.</summary>
    public CancellationToken Token => source.Token;

    /// <summary>Whether a stop has been requested.</summary>
    public bool Requested => Volatile.Read(ref received) != 0;

    /// <summary>The signal's name for messages: "SIGINT (Ctrl-C)" or "SIGTERM".</summary>
    public string Name => (PosixSignal)Volatile.Read(ref received) == PosixSignal.SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM";

    /// <summary>The exit code of a command the signal stopped: 128 + the signal's number.</summary>
    public int ExitCode => (PosixSignal)Volatile.Read(ref received) == PosixSignal.SIGINT ? 130 : 143;

    /// <summary>Handles SIGINT and SIGTERM until disposed (one command's run), starting with no stop requested.</summary>
    public IDisposable Listen()
    {
        source = new CancellationTokenSource();
        Volatile.Write(ref received, 0);
        var registrations = new[]
        {
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        };
        return new Scope(() =>
        {
            foreach (var r in registrations) r.Dispose();
        });
    }

    /// <summary>A section whose work checks <see cref="Token"/> and can stop cleanly; the first signal waits for it.</summary>
    public IDisposable Graceful()
    {
        Interlocked.Increment(ref sections);
        return new Scope(() => Interlocked.Decrement(ref sections));
    }

    void Handle(PosixSignalContext context)
    {
        bool first = Volatile.Read(ref sections) > 0 && Interlocked.CompareExchange(ref received, (int)context.Signal, 0) == 0;
        if (!first) return;                       // Cancel stays false: the runtime ends the process as it would without us
        context.Cancel = true;
        Console.Error.WriteLine($"ldm: {Name}: stopping after the current step; send it again to stop at once");
        source.Cancel();
    }

    sealed class Scope(Action end) : IDisposable
    {
        int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) end();
        }
    }
}
