using System.CommandLine;
using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Native;
using LatentDiffusion.Sampling;
using LatentDiffusion.Training;
using Spectre.Console;

namespace LatentDiffusion.Cli;

/// <summary>
/// The conventions every command follows: exit 0 on success, 2 on a usage error (the command line itself cannot work:
/// an unknown option, a value out of range — decided before any file is read), 1 on a failure (what was found on disk or
/// happened while running: a missing or damaged file, a locked run directory, a diverged training), with one line on
/// stderr (never a stack trace); 130 or 143 when SIGINT or SIGTERM stopped a training or sampling cleanly
/// (<see cref="StopSignal"/>). Human output on stdout, progress on stderr; with --json, one JSON object as the last line
/// of stdout.
/// </summary>
public static class CliApp
{
    public const int Ok = 0, Failure = 1, Usage = 2;

    /// <summary>SIGINT/SIGTERM handling of the running command: trainings and samplers pass its token down.</summary>
    public static StopSignal Stop { get; } = new();

    /// <summary>Progress and notices: stderr, so stdout stays clean for results and --json.</summary>
    public static IAnsiConsole Err { get; } = Create(Console.Error, Console.IsErrorRedirected);

    /// <summary>Results for people: stdout.</summary>
    public static IAnsiConsole Out { get; } = Create(Console.Out, Console.IsOutputRedirected);

    /// <summary>A console on <paramref name="writer"/>; redirected output gets a width that fits the tables, not 80 columns.</summary>
    static IAnsiConsole Create(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (redirected) console.Profile.Width = 160;
        return console;
    }

    static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static int Run(RootCommand root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, however many errors the parser found (a missing value also makes it report the next word).
            Console.Error.WriteLine($"ldm: {string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')))}");
            Console.Error.WriteLine("Run 'ldm --help' for usage.");
            return Usage;
        }
        using IDisposable listening = Stop.Listen();
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (TrainingStoppedException e) when (Stop.Requested)
        {
            string resume = e.Checkpoint is null ? "nothing to resume; run the command again to start" : $"resume with: {ResumeCommand(args)}";
            Console.Error.WriteLine($"ldm: {Stop.Name}: {e.Message}; {resume}");
            return Stop.ExitCode;
        }
        catch (OperationCanceledException) when (Stop.Requested)
        {
            Console.Error.WriteLine($"ldm: {Stop.Name}: stopped while sampling; nothing of it was written");
            return Stop.ExitCode;
        }
        catch (InvalidOptionException e)
        {
            Console.Error.WriteLine($"ldm: {e.Message}");
            Console.Error.WriteLine("Run 'ldm --help' for usage.");
            return Usage;
        }
        catch (Exception e)
        {
            // Expected failures are one line; anything else is a bug, still one line unless LDM_DEBUG asks for the trace.
            string message = Describe(e) ?? $"internal error ({e.GetType().Name}): {e.Message}. Set LDM_DEBUG=1 for the stack trace and please report it.";
            Console.Error.WriteLine($"ldm: error: {message}");
            if (Environment.GetEnvironmentVariable("LDM_DEBUG") is "1") Console.Error.WriteLine(e);
            return Failure;
        }
    }

    /// <summary>
    /// The command that continues a stopped training: a <c>train</c> command with <c>--resume</c> added, anything else
    /// (<c>reproduce --train</c>, which resumes by itself) as it was. Arguments are quoted for a POSIX shell when needed.
    /// </summary>
    internal static string ResumeCommand(IReadOnlyList<string> args)
    {
        bool train = args.Count >= 2 && args[1] == "train" && !args.Contains("--resume");
        IEnumerable<string> words = train ? args.Append("--resume") : args;
        return "ldm " + string.Join(' ', words.Select(Quote));
    }

    static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>The one-line message for an expected failure; null lets anything else surface as a bug.</summary>
    static string? Describe(Exception e) => e switch
    {
        DataFormatException or TorchLoadException or TrainingDivergedException or UsageException or NonFiniteSamplesException => e.Message,
        ArgumentException or FileNotFoundException or DirectoryNotFoundException => e.Message,
        UnauthorizedAccessException or IOException => e.Message,
        OperationCanceledException => "cancelled",
        _ => null,
    };

    /// <summary>Wraps a command body: loads libtorch first, then runs it.</summary>
    public static Func<ParseResult, int> Action(Func<ParseResult, int> body) => parse =>
    {
        TorchRuntime.EnsureLoaded();
        return body(parse);
    };

    /// <summary>Prints <paramref name="value"/> as one compact JSON line on stdout (snake_case names).</summary>
    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>A file path option's value, or a clear error (exit 1) when it does not exist or is a directory.</summary>
    public static string RequireFile(string? path, string what)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"no {what} given");
        if (Directory.Exists(path)) throw new UsageException($"{what} {path} is a directory, not a file");
        if (!File.Exists(path)) throw new UsageException($"{what} {path} does not exist");
        return path;
    }
}

/// <summary>
/// An option value that cannot work whatever the files say (-n 0, --steps 0, --epochs -1, --lr nan, an output name
/// with the wrong extension): a usage error, exit 2, like a parse error.
/// </summary>
public sealed class InvalidOptionException(string message) : Exception(message);

/// <summary>
/// A problem found in what the user pointed at (a missing file, a directory where a file is expected, a model that does
/// not fit an option): a failure, exit 1, with this one line.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
