using Microsoft.AspNetCore.Http;

namespace LatentDiffusion.Server;

/// <summary>The page (index.html, app.js, app.css), embedded in this assembly: no CDN, nothing to install, works offline.</summary>
public static class StaticPage
{
    static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    /// <summary>The embedded files' names: index.html, app.js, app.css.</summary>
    public static IReadOnlyList<string> Files { get; } = typeof(StaticPage).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Select(n => n[Prefix.Length..]).ToArray();

    const string Prefix = "LatentDiffusion.Server.wwwroot.";

    /// <summary>A handler that answers with the embedded <paramref name="file"/>.</summary>
    public static RequestDelegate Serve(string file)
    {
        using Stream resource = typeof(StaticPage).Assembly.GetManifestResourceStream(Prefix + file)
            ?? throw new InvalidOperationException($"the page file {file} is not embedded in {typeof(StaticPage).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        byte[] bytes = copy.ToArray();
        string type = ContentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
        return async context =>
        {
            context.Response.ContentType = type;
            context.Response.Headers.CacheControl = "no-cache";
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        };
    }
}
