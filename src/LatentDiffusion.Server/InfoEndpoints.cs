using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LatentDiffusion.Sampling;
using Microsoft.AspNetCore.Http;

namespace LatentDiffusion.Server;

/// <summary>
/// The read-only API: <c>GET /api/models</c> (the models with their data — dataset, class names, channels, side —
/// their samplers and defaults, the folders, the limits),
/// <c>GET /api/status</c> (the queue and what happened to the requests so far) and <c>GET /api/reports</c> (the
/// reports under /docs, for the page's second tab).
/// </summary>
public sealed partial class InfoEndpoints(ModelCatalog catalog, GenerationQueue queue, ServerOptions options, ServerCounters counters)
{
    public Task Models(HttpContext context) => Write(context, new
    {
        models = catalog.List().Select(m => new
        {
            id = m.Id,
            file = Path.GetFileName(m.Path),
            description = m.Description,
            kind = m.Config is null ? null : m.Kind,
            conditional = m.Conditional,
            classes = m.Config?.UNet.Classes ?? 0,
            dataset = m.DatasetName,
            class_names = m.ClassNames,
            channels = m.Channels,
            resolution = m.Resolution,
            vae = m.Folder is { } folder ? Path.GetFileName(folder.Served.VaePath) : null,
            classifier = m.Folder is { } f ? Path.GetFileName(f.Served.ClassifierPath) : null,
            diffusion_steps = m.Config?.Steps,
            default_guidance = m.Conditional && m.Config is { } recorded ? options.GuidanceFor(recorded) : (double?)null,
            samplers = m.Config is not { } config ? [] : m.Samplers.Select(s => new
            {
                name = s.Name,
                title = s.Title,
                summary = s.Summary,
                default_steps = s.DefaultSteps(config),
                max_steps = Math.Min(options.MaxSteps, s.MaxSteps(config) ?? int.MaxValue),
                fixed_steps = s.FixedSteps,
                evaluations_per_step = s.Evaluations(2) - s.Evaluations(1),   // evaluations = per_step × S + offset
                evaluations_offset = 2 * s.Evaluations(1) - s.Evaluations(2),
                parameters = s.Parameters,
            }).ToArray(),
            problem = m.Problem,
        }),
        vae = Path.GetFileName(options.Folders[0].VaePath),                                 // the first folder's; each model names its own
        classifier = Path.GetFileName(options.Folders[0].ClassifierPath),
        folders = catalog.Folders.Select(f => new { name = f.Served.Name, id_prefix = f.IdPrefix, dataset = f.Data?.Name ?? Data.KnownDatasets.Mnist.Name }),
        default_guidance = options.DefaultGuidance,
        limits = new
        {
            max_count = options.MaxCount, max_steps = options.MaxSteps, default_count = options.DefaultCount, workers = options.Workers, max_waiting = options.MaxWaiting, one_thread_up_to = options.OneThreadUpTo,
            max_guidance = Diffusion.Guidance.MaxWeight, max_eta = Diffusion.Ddim.MaxEta,
        },
    });

    /// <summary>
    /// The queue, the counters, and memory: resident (RSS), what the .NET GC has committed and the live managed heap
    /// as of its last collection; resident − committed is, roughly, libtorch's and SkiaSharp's native memory.
    /// </summary>
    public Task Status(HttpContext context) => Write(context, Snapshot());

    object Snapshot()
    {
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        return new
        {
            running = queue.Running,
            waiting = queue.Waiting,
            workers = queue.Workers,
            max_waiting = queue.MaxWaiting,
            completed = counters.Completed,
            cancelled = counters.Cancelled,
            failed = counters.Failed,
            rejected = counters.Rejected,
            invalid = counters.Invalid,
            resident_bytes = Environment.WorkingSet,
            gc_committed_bytes = gc.TotalCommittedBytes,
            managed_live_bytes = gc.HeapSizeBytes - gc.FragmentedBytes,
        };
    }

    /// <summary>
    /// Every folder of the docs directory with an index.html — part1, part2, part3, then the others by name — with its
    /// page title; not the browser page (docs/play, served at /play), which is no report.
    /// </summary>
    public Task Reports(HttpContext context)
    {
        string? docs = options.DocsDirectory is { } d && Directory.Exists(d) ? d : null;
        var reports = docs is null ? [] : Directory.EnumerateDirectories(docs)
            .Where(dir => File.Exists(Path.Combine(dir, "index.html")))
            .Select(dir => Path.GetFileName(dir))
            .Where(name => name != LdmServer.PlayFolder)
            .OrderBy(name => name.StartsWith("part", StringComparison.Ordinal) ? 0 : 1)   // the series' parts in order, then the rest (conditional, …)
            .ThenBy(name => name, StringComparer.Ordinal)
            .Select(name => new { name, title = Title(Path.Combine(docs, name, "index.html")) ?? name, url = $"/docs/{name}/index.html" })
            .ToArray();
        return Write(context, new { docs = docs is null ? null : "/docs/", reports });
    }

    static string? Title(string html)
    {
        Match match = TitleTag().Match(File.ReadAllText(html));
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value).Trim() : null;
    }

    [GeneratedRegex("<title>(.*?)</title>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex TitleTag();

    static async Task Write(HttpContext context, object value)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, GenerateEndpoint.Json, context.RequestAborted);
    }
}
