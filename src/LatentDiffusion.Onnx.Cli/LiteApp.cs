using System.CommandLine;
using System.Text.Json;

namespace LatentDiffusion.Onnx.Cli;

/// <summary>
/// ldm's conventions for ldm-lite: exit 0 on success, 2 on a usage error (the command line cannot work), 1 on a failure
/// (a missing or wrong ONNX file), one line on stderr and never a stack trace; with --json one JSON object as the last
/// line of stdout.
/// </summary>
public static class LiteApp
{
    public const int Ok = 0, Failure = 1, Usage = 2;

    static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static int Run(RootCommand root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"ldm-lite: {error.Message}");
            Console.Error.WriteLine("Run 'ldm-lite --help' for usage.");
            return Usage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageError e)
        {
            Console.Error.WriteLine($"ldm-lite: {e.Message}");
            Console.Error.WriteLine("Run 'ldm-lite --help' for usage.");
            return Usage;
        }
        catch (Exception e) when (e is OnnxModelException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"ldm-lite: error: {e.Message}");
            return Failure;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"ldm-lite: error: internal error ({e.GetType().Name}): {e.Message}. Set LDM_DEBUG=1 for the stack trace and please report it.");
            if (Environment.GetEnvironmentVariable("LDM_DEBUG") is "1") Console.Error.WriteLine(e);
            return Failure;
        }
    }

    /// <summary>Prints <paramref name="value"/> as one compact JSON line on stdout (snake_case names).</summary>
    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
}

/// <summary>An option value that cannot work whatever the files say: exit 2.</summary>
public sealed class UsageError(string message) : Exception(message);
