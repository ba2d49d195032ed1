using Microsoft.AspNetCore.Http;

namespace LatentDiffusion.Server;

/// <summary>
/// Refuses, before any route runs, what another web page open in the user's browser can make that browser send to
/// this loopback server. A request whose Host is not a loopback name with the server's port gets 421, on every route:
/// a page whose own name is made to resolve to 127.0.0.1 (DNS rebinding) is same-origin with itself, not with us, and
/// its requests carry its name. A state-changing request (anything but GET, HEAD and OPTIONS) that carries an Origin other
/// than the server's own (http://localhost, 127.0.0.1 or [::1] with its port) gets 403: browsers add Origin to every
/// cross-origin POST, whatever its mode, and a page cannot remove it. No Origin at all (curl, scripts) is allowed.
/// </summary>
public static class RequestGuard
{
    /// <summary>The names of the loopback interface, the only one the server listens on (as a Host or an Origin gives them).</summary>
    public static IReadOnlyList<string> LoopbackNames { get; } = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>The middleware: answers a refused request with its one-line reason, passes the others on.</summary>
    public static async Task Invoke(HttpContext context, RequestDelegate next)
    {
        int port = context.Connection.LocalPort;
        HttpRequest request = context.Request;
        if (!IsLoopbackName(request.Host.Host) || (request.Host.Port ?? 80) != port)
        {
            await GenerateEndpoint.Error(context, StatusCodes.Status421MisdirectedRequest,
                $"unknown host: this server answers only to localhost, 127.0.0.1 and [::1] on port {port}");
            return;
        }
        if (ChangesState(request.Method) && request.Headers.Origin.Count > 0 && !(request.Headers.Origin is [{ } origin] && IsOwnOrigin(origin, port)))
        {
            await GenerateEndpoint.Error(context, StatusCodes.Status403Forbidden,
                $"cross-origin request refused: only the server's own page (origin http://127.0.0.1:{port}) may send it");
            return;
        }
        await next(context);
    }

    /// <summary>GET, HEAD and OPTIONS only read; everything else may change the server's state (start a generation).</summary>
    static bool ChangesState(string method) => !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));

    /// <summary>http://, a loopback name, this port, nothing else ("null", https, another port or name are foreign).</summary>
    static bool IsOwnOrigin(string origin, int port) =>
        Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri)
        && uri.Scheme == Uri.UriSchemeHttp
        && uri.Port == port
        && uri.PathAndQuery == "/" && uri.UserInfo.Length == 0
        && IsLoopbackName(uri.Host);

    static bool IsLoopbackName(string host) => LoopbackNames.Contains(host, StringComparer.OrdinalIgnoreCase);
}
