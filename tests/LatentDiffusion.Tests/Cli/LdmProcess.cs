using System.Diagnostics;

namespace LatentDiffusion.Tests.Cli;

/// <summary>Runs the real <c>ldm</c> (copied into the test output) as a child process.</summary>
public static class LdmProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The command failed with <paramref name="exitCode"/> and one <c>ldm:</c> line saying <paramref name="contains"/>, no stack trace.</summary>
    public static void AssertOneLineError(Result r, int exitCode, string contains)
    {
        Assert.Equal(exitCode, r.ExitCode);
        Assert.Contains(contains, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("ldm:"));
    }

    /// <param name="program">Another copy of ldm.dll to run (default: the one in the test output).</param>
    public static Process Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? workingDirectory = null, string? program = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(program ?? Path.Combine(AppContext.BaseDirectory, "ldm.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        return Process.Start(info) ?? throw new InvalidOperationException("could not start ldm");
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. <see cref="SIGTERM"/>) to the process, as <c>kill -s</c> would.</summary>
    public static void Signal(Process process, int signal)
    {
        if (kill(process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    public const int SIGINT = 2, SIGTERM = 15;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    /// <summary>Waits until <paramref name="condition"/> holds (polled every 20 ms) or fails after <paramref name="seconds"/>.</summary>
    public static void WaitUntil(Func<bool> condition, string what, double seconds = 60)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed.TotalSeconds > seconds) throw new TimeoutException($"{what} did not happen within {seconds} s");
            Thread.Sleep(20);
        }
    }

    public static Result Run(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? workingDirectory = null, int timeoutSeconds = 120,
        string? program = null)
    {
        using Process p = Start(args, environment, workingDirectory, program);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"ldm {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
