using System.Net;
using LatentDiffusion.Native;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LatentDiffusion.Server;

/// <summary>
/// <c>ldm serve</c>: a local web server (ASP.NET Core's Kestrel on 127.0.0.1) over the shipped models. A thin host:
/// the page (<see cref="StaticPage"/>), the reports folder under /docs, the browser page (docs/play) at /play, and the API of <see cref="InfoEndpoints"/> and
/// <see cref="GenerateEndpoint"/>, which call the library through <see cref="GenerationRunner"/>.
/// </summary>
public sealed class LdmServer : IAsyncDisposable
{
    readonly WebApplication app;
    readonly ModelCatalog catalog;
    readonly GenerationThreads threads;

    LdmServer(WebApplication app, ModelCatalog catalog, GenerationThreads threads, Uri url, string? token)
    {
        this.token = token;
        this.app = app;
        this.catalog = catalog;
        this.threads = threads;
        Url = url;
    }

    /// <summary>The folder of the reports that holds the browser page, served at /play.</summary>
    public const string PlayFolder = "play";

    /// <summary>Where the page is, e.g. http://127.0.0.1:5000/ (without the token).</summary>
    public Uri Url { get; }

    /// <summary>The address to open: <see cref="Url"/>, with <c>?token=…</c> when the server has a token.</summary>
    public Uri OpenUrl => token is null ? Url : new Uri(Url, $"?{RequestGuard.QueryName}={token}");

    readonly string? token;

    /// <summary>The models the server offers now.</summary>
    public IReadOnlyList<ModelEntry> Models => catalog.List();

    /// <summary>Loads every models folder's VAE and classifier (a missing or broken one throws here), then listens.</summary>
    public static async Task<LdmServer> StartAsync(ServerOptions options, CancellationToken cancellation = default)
    {
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var catalog = new ModelCatalog(options.Folders);
        var threads = new GenerationThreads(options.Workers);
        try
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
            {
                ApplicationName = typeof(LdmServer).Assembly.GetName().Name,
                ContentRootPath = AppContext.BaseDirectory,
            });
            builder.Logging.ClearProviders();   // the CLI prints what matters through ServerOptions.Log
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Loopback, options.Port);
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxRequestBodySize = GenerateEndpoint.MaxBodyBytes;
            });
            WebApplication app = builder.Build();
            Map(app, options, catalog, threads);
            await app.StartAsync(cancellation);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("Kestrel reported no address");
            return new LdmServer(app, catalog, threads, new Uri(address.TrimEnd('/') + "/"), options.Token);
        }
        catch
        {
            threads.Dispose();
            catalog.Dispose();
            throw;
        }
    }

    static void Map(WebApplication app, ServerOptions options, ModelCatalog catalog, GenerationThreads threads)
    {
        var queue = new GenerationQueue(options.Workers, options.MaxWaiting);
        var counters = new ServerCounters();
        var runner = new GenerationRunner(options);
        var info = new InfoEndpoints(catalog, queue, options, counters);
        var generate = new GenerateEndpoint(catalog, queue, threads, runner, options, counters, app.Lifetime.ApplicationStopping);

        app.Use(new RequestGuard(options.Token).Invoke);                                                       // before every route, the reports included
        RequestDelegate index = StaticPage.Serve("index.html");
        app.MapGet("/", index);
        foreach (string file in StaticPage.Files) app.MapGet("/" + file, StaticPage.Serve(file));
        app.MapGet("/api/models", info.Models);
        app.MapGet("/api/status", info.Status);
        app.MapGet("/api/reports", info.Reports);
        app.MapPost("/api/generate", generate.Handle);
        if (options.DocsDirectory is { } docs && Directory.Exists(docs))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new DocsFileProvider(docs), RequestPath = "/docs" });
            // The browser page (docs/play) at /play: static files, the same guard, the same rule on links out of the folder.
            string play = Path.Combine(docs, PlayFolder);
            if (Directory.Exists(play))
            {
                var files = new DocsFileProvider(play);
                app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = "/" + PlayFolder });   // /play → /play/ → index.html
                app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = "/" + PlayFolder });
            }
        }
    }

    /// <summary>Runs until the process is told to stop (Ctrl+C, SIGTERM) or <paramref name="cancellation"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => app.WaitForShutdownAsync(cancellation);

    /// <summary>Stops listening, cancels running generations (they stop between steps), then frees the models.</summary>
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        threads.Dispose();
        catalog.Dispose();
    }
}
