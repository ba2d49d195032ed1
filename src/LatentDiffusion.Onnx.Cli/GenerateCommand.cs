using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace LatentDiffusion.Onnx.Cli;

/// <summary>
/// <c>ldm-lite generate --digit 7 -n 16 --out x.png</c>: digits from the exported conditional UNet and VAE decoder. The
/// sampler, steps and guidance default to what the ONNX file records (the library's defaults at export).
/// </summary>
public static class GenerateCommand
{
    /// <summary>Where ldm-lite looks for the ONNX files when --models is not given: <c>onnx/</c> beside the program.</summary>
    public static string DefaultModels => Path.Combine(AppContext.BaseDirectory, "onnx");

    public static Command Create()
    {
        var digit = new Option<string?>("--digit") { Description = "The digit to generate (0-9), or 'all' for one row per digit. Omit for unconditional samples." };
        var count = new Option<int>("-n", "--count") { Description = "Digits to generate (with --digit all: per digit).", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--out") { Description = "Where to write: NAME.png a grid, anything else a new folder of 28x28 PNGs (what ldm fid reads).", DefaultValueFactory = _ => "digits.png" };
        var models = new Option<string>("--models") { Description = "Folder written by ldm export --onnx. Default: onnx/ beside ldm-lite.", DefaultValueFactory = _ => DefaultModels };
        var model = new Option<string>("--model") { Description = "The UNet in that folder (NAME or NAME.onnx).", DefaultValueFactory = _ => "conditional" };
        var sampler = new Option<string?>("--sampler") { Description = "Sampler: iadb or heun (α-deblending), ddim (ε-model). Default: the one the file records." };
        var steps = new Option<int?>("--steps") { Description = "Sampling steps. Default: the sampler's, as the file records." };
        var eta = new Option<double?>("--eta") { Description = "DDIM's η (0: deterministic)." };
        var guidance = new Option<double?>("--guidance") { Description = "Classifier-free guidance weight w. Default: the file's." };
        var interval = new Option<string?>("--guidance-interval") { Description = "Noise levels LOW,HIGH where guidance applies, or 'all'. Default: the file's." };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise (ldm-lite's own generator: other digits than ldm's for the same seed).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { Description = "Latents per network call.", DefaultValueFactory = _ => new LiteRequest().BatchSize };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print one JSON object as the last line of stdout." };
        var command = new Command("generate", "Generate digits on ONNX Runtime from exported files.")
        {
            digit, count, output, models, model, sampler, steps, eta, guidance, interval, seed, batch, threads, json,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(count);
            if (n < 1) throw new UsageError($"-n must be positive (got {n})");
            int[]? digits = parse.GetValue(digit) is { } d ? ParseDigits(d) : null;
            string dest = parse.GetValue(output)!;
            bool grid = dest.EndsWith(".png", StringComparison.OrdinalIgnoreCase);
            if (parse.GetValue(threads) < 1) throw new UsageError($"--threads must be positive (got {parse.GetValue(threads)})");
            var request = new LiteRequest
            {
                Count = digits is null ? n : digits.Length * n,
                Seed = parse.GetValue(seed),
                Sampler = parse.GetValue(sampler),
                Steps = parse.GetValue(steps),
                Eta = parse.GetValue(eta),
                Labels = digits?.SelectMany(x => Enumerable.Repeat(x, n)).ToArray(),
                Guidance = parse.GetValue(guidance),
                GuidanceInterval = ParseInterval(parse.GetValue(interval)),
                BatchSize = parse.GetValue(batch),
            };
            using LiteGenerator generator = LiteGenerator.OpenFolder(parse.GetValue(models)!, parse.GetValue(model)!, new RuntimeOptions { Threads = parse.GetValue(threads) });
            if (generator.Problem(request) is { } problem) throw new UsageError(problem);
            var (chosen, stepCount) = generator.Resolve(request);
            var watch = Stopwatch.StartNew();
            float[] images = generator.Generate(request);
            double seconds = watch.Elapsed.TotalSeconds;
            if (grid) DigitImages.WriteGrid(images, request.Count, dest, digits is { Length: > 1 } ? n : null);
            else DigitImages.WriteFolder(images, request.Count, dest);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {dest}: {request.Count} digits in {seconds:F2} s ({chosen.Name}, {stepCount} steps, seed {request.Seed}; {generator.UNet.Path})."));
            if (parse.GetValue(json))
                LiteApp.WriteJson(new { output = dest, count = request.Count, digits, sampler = chosen.Name, steps = stepCount, seed = request.Seed, seconds, model = generator.UNet.Path });
            return LiteApp.Ok;
        });
        return command;
    }

    static int[] ParseDigits(string text)
    {
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return Enumerable.Range(0, 10).ToArray();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int d) && d is >= 0 and <= 9) return [d];
        throw new UsageError($"--digit must be 0-9 or 'all' (got '{text}')");
    }

    /// <summary>"all" → guidance at every noise level; "LOW,HIGH"; null → the file's default.</summary>
    static (double, double)? ParseInterval(string? text)
    {
        if (text is null) return null;
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return (0, 1);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo) &&
            double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi) && lo >= 0 && lo <= hi && hi <= 1)
            return (lo, hi);
        throw new UsageError($"--guidance-interval must be 'all' or LOW,HIGH with 0 ≤ LOW ≤ HIGH ≤ 1 (got '{text}')");
    }
}
