using System.Diagnostics;
using System.Text.RegularExpressions;
using LatentDiffusion.Tests.Cli;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// A real <c>ldm serve --port 0</c> as a child process (one OpenMP thread, as the machine's other work needs), found
/// at the address it prints; killed, with its children, on dispose. Its stderr (one line per generation) is kept for
/// failure messages.
/// </summary>
internal sealed partial class ServeProcess : IDisposable
{
    readonly Process process;
    readonly List<string> stderr = [];

    ServeProcess(Process process, Uri url)
    {
        this.process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(120) };
    }

    public Uri Url { get; }

    public HttpClient Http { get; }

    public int Id => process.Id;

    public string Log { get { lock (stderr) return string.Join('\n', stderr); } }

    /// <summary>Starts <c>ldm serve --port 0 ARGS</c> and waits (at most a minute) for its "Serving http://…" line.</summary>
    public static ServeProcess Start(params string[] args) => Start(args, null);

    /// <summary>
    /// As <see cref="Start(string[])"/>, with more environment variables for the server, run from
    /// <paramref name="workingDirectory"/> (default: the test output) and from another copy of ldm.dll (<paramref name="program"/>).
    /// </summary>
    public static ServeProcess Start(string[] args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory = null, string? program = null)
    {
        var variables = new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) variables[k] = v;
        Process process = LdmProcess.Start(["serve", "--port", "0", .. args], variables, workingDirectory, program);
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { url.TrySetException(new InvalidOperationException("ldm serve exited: " + string.Join('\n', lines))); return; }
            lock (lines) lines.Add(e.Data);
            if (Address().Match(e.Data) is { Success: true } m) url.TrySetResult(new Uri(m.Value));
        };
        process.BeginOutputReadLine();
        var server = new List<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server) server.Add(e.Data); };
        process.BeginErrorReadLine();
        if (!url.Task.Wait(TimeSpan.FromSeconds(60)) )
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("ldm serve printed no address in 60 s: " + string.Join('\n', server));
        }
        var serve = new ServeProcess(process, url.Task.Result);
        lock (server) serve.stderr.AddRange(server);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (serve.stderr) serve.stderr.Add(e.Data); };
        return serve;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/")]
    private static partial Regex Address();

    /// <summary>The server's resident memory, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/{pid}/status");
    }

    public bool HasExited => process.HasExited;

    public void Dispose()
    {
        Http.Dispose();
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
