using System.CommandLine;
using System.Globalization;
using LatentDiffusion.Experiments;
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
        var defaults = new ServerOptions { Folders = [] };
        var port = new Option<int>("--port") { Description = "TCP port on 127.0.0.1 (0: any free port; the address is printed).", DefaultValueFactory = _ => DefaultPort };
        var models = new Option<string[]>("--models")
        {
            Description = $"Folder whose diffusion models (UNet *.safetensors) are offered, with its own {ModelSet.VaeFile} and {ModelSet.ClassifierFile} (as models/ and ldm pipeline --out lay them out). Several: repeat the option or list them after it (--models models runs/flowers); the first folder's model ids are their file names, the others' are prefixed with the folder's name (flowers/conditional). Default: the shipped models/.",
            DefaultValueFactory = _ => [Defaults.ModelsDirectory],
            AllowMultipleArgumentsPerToken = true,
        };
        var vae = new Option<string?>("--vae") { Description = $"The VAE that decodes the latents (one models folder only). Default: {ModelSet.VaeFile} in the models folder." };
        var classifier = new Option<string?>("--classifier") { Description = $"The classifier that reads each image (one models folder only). Default: {ModelSet.ClassifierFile} in the models folder." };
        var docs = new Option<string>("--docs") { Description = "Reports folder shown in the page's second tab. Default: the shipped docs/.", DefaultValueFactory = _ => Defaults.DocsDirectory };
        var workers = new Option<int>("--workers") { Description = "Generations that run at once.", DefaultValueFactory = _ => defaults.Workers };
        var queue = new Option<int>("--queue") { Description = "Generations that may wait behind them; more are refused with 429.", DefaultValueFactory = _ => defaults.MaxWaiting };
        var maxCount = new Option<int>("--max-count") { Description = "Most digits per request (more: 400).", DefaultValueFactory = _ => defaults.MaxCount };
        var token = new Option<string?>("--token")
        {
            Description = $"Require a secret on every request (for a port reached through an SSH tunnel or a reverse proxy; any host name is then answered): 'auto' makes a random one, or give one of {RequestGuard.MinTokenLength}+ letters and digits. Open the printed address (it carries the token) or send Authorization: Bearer TOKEN.",
        };
        var oneThread = new Option<int>("--one-thread-up-to") { Description = "Generations of at most this many digits run on one libtorch thread (measured faster for a server's generation thread, docs/serve.md); larger ones on all of them. 0: never.", DefaultValueFactory = _ => defaults.OneThreadUpTo };
        var maxSteps = new Option<int>("--max-steps") { Description = "Most sampling steps per request (more: 400).", DefaultValueFactory = _ => defaults.MaxSteps };
        var command = new Command("serve", "A local web page: pick a model, sampler, digit (or class) and guidance, watch the images denoise, read the classifier's labels; the reports in a second tab. JSON/PNG API under /api.")
        {
            port, models, vae, classifier, docs, workers, queue, maxCount, maxSteps, token, oneThread,
        };
        command.SetAction(CliApp.Action(parse =>
        {
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535) throw new InvalidOptionException($"--port must be 0-65535 (got {p})");
            string? secret = parse.GetValue(token) is "auto" ? RequestGuard.NewToken() : parse.GetValue(token);
            if (secret is not null && RequestGuard.TokenProblem(secret) is { } weak) throw new InvalidOptionException($"--token: {weak}");
            IReadOnlyList<ServedFolder> sets = Folders(parse.GetValue(models) ?? [], parse.GetValue(vae), parse.GetValue(classifier));
            var options = defaults with
            {
                Folders = sets,
                DocsDirectory = parse.GetValue(docs),
                Port = p,
                Workers = Positive(parse.GetValue(workers), "--workers"),
                MaxWaiting = parse.GetValue(queue) is >= 0 and var q ? q : throw new InvalidOptionException($"--queue must be 0 or more (got {parse.GetValue(queue)})"),
                MaxCount = Positive(parse.GetValue(maxCount), "--max-count"),
                MaxSteps = Positive(parse.GetValue(maxSteps), "--max-steps"),
                OneThreadUpTo = parse.GetValue(oneThread) is >= 0 and var one ? one : throw new InvalidOptionException($"--one-thread-up-to must be 0 or more (got {parse.GetValue(oneThread)})"),
                Token = secret,
                Log = line => CliApp.Err.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]{DateTime.Now:HH:mm:ss} {line}[/]"),
            };
            options = options with { DefaultCount = Math.Min(options.DefaultCount, options.MaxCount) };
            LdmServer server = LdmServer.StartAsync(options).GetAwaiter().GetResult();
            try
            {
                IReadOnlyList<ModelEntry> offered = server.Models;
                string names = offered.Count == 0 ? "none yet" : string.Join(", ", offered.Select(m => m.Problem is null ? m.Id : $"{m.Id} (unusable)"));
                string folders = string.Join(", ", sets.Select(s => s.Directory));
                Console.Out.WriteLine($"Serving {server.OpenUrl} (models in {folders}: {names}; Ctrl+C stops)");
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

    /// <summary>
    /// The folders to serve, each with its VAE and classifier, or a one-line error: an empty list, --vae or --classifier
    /// with several folders, a folder given twice or two later ones of the same name (<see cref="ServedFolder.Problem"/>), a
    /// missing folder, or a folder without its VAE or classifier (named with the file it lacks).
    /// </summary>
    static IReadOnlyList<ServedFolder> Folders(string[] folders, string? vae, string? classifier)
    {
        if (folders.Length == 0) throw new InvalidOptionException("--models needs a folder");
        if (folders.Length > 1 && (vae ?? classifier) is not null)
            throw new InvalidOptionException($"{(vae is not null ? "--vae" : "--classifier")} applies to one models folder; with several, each folder's own {(vae is not null ? ModelSet.VaeFile : ModelSet.ClassifierFile)} is used");
        var sets = new List<ServedFolder>();
        foreach (string folder in folders)
        {
            if (string.IsNullOrWhiteSpace(folder)) throw new InvalidOptionException("--models: an empty folder name");
            if (!Directory.Exists(folder)) throw new UsageException($"models folder {folder} does not exist");
            ServedFolder served = ServedFolder.In(folder, vae, classifier);
            if (vae is null && !File.Exists(served.VaePath)) throw new UsageException($"models folder {folder} has no VAE: {served.VaePath} does not exist");
            if (classifier is null && !File.Exists(served.ClassifierPath)) throw new UsageException($"models folder {folder} has no classifier: {served.ClassifierPath} does not exist");
            sets.Add(ServedFolder.In(folder, vae is null ? null : CliApp.RequireFile(vae, "VAE"), classifier is null ? null : CliApp.RequireFile(classifier, "classifier")));
        }
        if (ServedFolder.Problem(sets) is { } problem) throw new InvalidOptionException($"--models: {problem}");
        return sets;
    }

    static int Positive(int value, string option) => value > 0 ? value : throw new InvalidOptionException($"{option} must be positive (got {value})");
}
