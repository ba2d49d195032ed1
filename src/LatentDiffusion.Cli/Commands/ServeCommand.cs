using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Server;
using Spectre.Console;

namespace LatentDiffusion.Cli.Commands;

/// <summary><c>ldm serve</c>: a local web page to generate digits and watch them denoise (the host is <see cref="LdmServer"/>).</summary>
public static class ServeCommand
{
    /// <summary>The port when none is given.</summary>
    public const int DefaultPort = 5000;

    public static Command Create()
    {
        var defaults = new ServerOptions { ModelsDirectory = "models", VaePath = "", ClassifierPath = "" };
        var port = new Option<int>("--port") { Description = "TCP port on 127.0.0.1 (0: any free port; the address is printed).", DefaultValueFactory = _ => DefaultPort };
        var models = new Option<string>("--models") { Description = "Folder whose diffusion models (UNet *.safetensors) are offered. Default: the shipped models/.", DefaultValueFactory = _ => Defaults.ModelsDirectory };
        var vae = new Option<string?>("--vae") { Description = "The VAE that decodes the latents. Default: latent-vae.safetensors in the models folder." };
        var classifier = new Option<string?>("--classifier") { Description = "The classifier that reads each digit. Default: classifier.safetensors in the models folder." };
        var docs = new Option<string>("--docs") { Description = "Reports folder shown in the page's second tab. Default: the shipped docs/.", DefaultValueFactory = _ => Defaults.DocsDirectory };
        var workers = new Option<int>("--workers") { Description = "Generations that run at once.", DefaultValueFactory = _ => defaults.Workers };
        var queue = new Option<int>("--queue") { Description = "Generations that may wait behind them; more are refused with 429.", DefaultValueFactory = _ => defaults.MaxWaiting };
        var maxCount = new Option<int>("--max-count") { Description = "Most digits per request (more: 400).", DefaultValueFactory = _ => defaults.MaxCount };
        var token = new Option<string?>("--token")
        {
            Description = $"Require a secret on every request (for a port reached through an SSH tunnel or a reverse proxy; any host name is then answered): 'auto' makes a random one, or give one of {RequestGuard.MinTokenLength}+ letters and digits. Open the printed address (it carries the token) or send Authorization: Bearer TOKEN.",
        };
        var maxSteps = new Option<int>("--max-steps") { Description = "Most sampling steps per request (more: 400).", DefaultValueFactory = _ => defaults.MaxSteps };
        var command = new Command("serve", "A local web page: pick a model, sampler, digit and guidance, watch the digits denoise, read the classifier's labels; the reports in a second tab. JSON/PNG API under /api.")
        {
            port, models, vae, classifier, docs, workers, queue, maxCount, maxSteps, token,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535) throw new InvalidOptionException($"--port must be 0-65535 (got {p})");
            string? secret = parse.GetValue(token) is "auto" ? RequestGuard.NewToken() : parse.GetValue(token);
            if (secret is not null && RequestGuard.TokenProblem(secret) is { } weak) throw new InvalidOptionException($"--token: {weak}");
            string folder = parse.GetValue(models)!;
            if (!Directory.Exists(folder)) throw new UsageException($"models folder {folder} does not exist");
            string vaePath = CliApp.RequireFile(parse.GetValue(vae) ?? Path.Combine(folder, "latent-vae.safetensors"), "VAE");
            string classifierPath = CliApp.RequireFile(parse.GetValue(classifier) ?? Path.Combine(folder, "classifier.safetensors"), "classifier");
            var options = defaults with
            {
                ModelsDirectory = folder,
                VaePath = vaePath,
                ClassifierPath = classifierPath,
                DocsDirectory = parse.GetValue(docs),
                Port = p,
                Workers = Positive(parse.GetValue(workers), "--workers"),
                MaxWaiting = parse.GetValue(queue) is >= 0 and var q ? q : throw new InvalidOptionException($"--queue must be 0 or more (got {parse.GetValue(queue)})"),
                MaxCount = Positive(parse.GetValue(maxCount), "--max-count"),
                MaxSteps = Positive(parse.GetValue(maxSteps), "--max-steps"),
                Token = secret,
                Log = line => CliApp.Err.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]{DateTime.Now:HH:mm:ss} {line}[/]"),
            };
            options = options with { DefaultCount = Math.Min(options.DefaultCount, options.MaxCount) };
            LdmServer server = LdmServer.StartAsync(options).GetAwaiter().GetResult();
            try
            {
                IReadOnlyList<ModelEntry> offered = server.Models;
                string names = offered.Count == 0 ? "none yet" : string.Join(", ", offered.Select(m => m.Problem is null ? m.Id : $"{m.Id} (unusable)"));
                Console.Out.WriteLine($"Serving {server.OpenUrl} (models in {folder}: {names}; Ctrl+C stops)");
                Console.Out.Flush();
                server.WaitForShutdownAsync().GetAwaiter().GetResult();
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return CliApp.Ok;
        }));
        return command;
    }

    static int Positive(int value, string option) => value > 0 ? value : throw new InvalidOptionException($"{option} must be positive (got {value})");
}
