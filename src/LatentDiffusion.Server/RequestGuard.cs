using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace LatentDiffusion.Server;

/// <summary>
/// Refuses, before any route runs, what another web page open in the user's browser can make that browser send to
/// this loopback server, and, with a token, whatever does not carry it.
/// <para>Without a token (the default): a request whose Host is not a loopback name with the server's port gets 421,
/// on every route: a page whose own name is made to resolve to 127.0.0.1 (DNS rebinding) is same-origin with itself,
/// not with us, and its requests carry its name. A state-changing request (anything but GET, HEAD and OPTIONS) that
/// carries an Origin other than the server's own (http://localhost, 127.0.0.1 or [::1] with its port) gets 403:
/// browsers add Origin to every cross-origin POST, whatever its mode, and a page cannot remove it. No Origin at all
/// (curl, scripts) is allowed.</para>
/// <para>With a token (<see cref="ServerOptions.Token"/>, for a port reached through an SSH tunnel or a reverse proxy,
/// where the Host is whatever the user's side calls it): every request must carry it — <c>Authorization: Bearer T</c>,
/// or the cookie that opening the printed <c>/?token=T</c> address sets (HttpOnly, SameSite=Strict, so no other site's
/// page can make the browser send it) — else 401. The Host may then be any name; a state-changing request's Origin,
/// when present, must be that same host.</para>
/// </summary>
public sealed class RequestGuard(string? token)
{
    /// <summary>The names of the loopback interface, the only one the server listens on (as a Host or an Origin gives them).</summary>
    public static IReadOnlyList<string> LoopbackNames { get; } = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>The cookie that carries the token for the page (set by a request with a valid <c>?token=</c>).</summary>
    public const string CookieName = "ldm_token";

    /// <summary>The query parameter the printed address carries the token in.</summary>
    public const string QueryName = "token";

    /// <summary>Shortest token accepted from the user: 128 bits as hex.</summary>
    public const int MinTokenLength = 32;

    readonly byte[]? expected = token is null ? null : Encoding.UTF8.GetBytes(token);

    /// <summary>A new random token: 32 bytes as 64 hex digits.</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Why <paramref name="candidate"/> cannot be a token (null: it can): too short, or characters a URL or header would mangle.</summary>
    public static string? TokenProblem(string candidate) =>
        candidate.Length < MinTokenLength ? $"a token must be at least {MinTokenLength} characters (got {candidate.Length}); 'auto' makes one"
        : candidate.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~') ? null
        : "a token may hold only letters, digits and - _ . ~";

    /// <summary>The middleware: answers a refused request with its one-line reason, passes the others on.</summary>
    public async Task Invoke(HttpContext context, RequestDelegate next)
    {
        int port = context.Connection.LocalPort;
        HttpRequest request = context.Request;
        if (expected is null && (!IsLoopbackName(request.Host.Host) || (request.Host.Port ?? 80) != port))
        {
            await GenerateEndpoint.Error(context, StatusCodes.Status421MisdirectedRequest,
                $"unknown host: this server answers only to localhost, 127.0.0.1 and [::1] on port {port}");
            return;
        }
        if (ChangesState(request.Method) && request.Headers.Origin.Count > 0 && !(request.Headers.Origin is [{ } origin] && IsOwnOrigin(origin, request, port)))
        {
            await GenerateEndpoint.Error(context, StatusCodes.Status403Forbidden, expected is null
                ? $"cross-origin request refused: only the server's own page (origin http://127.0.0.1:{port}) may send it"
                : $"cross-origin request refused: only the server's own page (origin {request.Scheme}://{request.Host}) may send it");
            return;
        }
        if (expected is not null && !await Authenticated(context)) return;
        await next(context);
    }

    /// <summary>
    /// True when the request carries the token. A GET with a valid <c>?token=</c> sets the cookie and is redirected to
    /// the same address without it (so the token leaves the address bar and the history); false after answering 401.
    /// </summary>
    async Task<bool> Authenticated(HttpContext context)
    {
        HttpRequest request = context.Request;
        string? bearer = request.Headers.Authorization is [{ } header] && header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..].Trim() : null;
        if (Matches(bearer) || Matches(request.Cookies[CookieName])) return true;
        if (Matches(request.Query[QueryName] is [{ } queried] ? queried : null))
        {
            context.Response.Cookies.Append(CookieName, Encoding.UTF8.GetString(expected!), new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", Secure = request.IsHttps, IsEssential = true,
            });
            if (!HttpMethods.IsGet(request.Method)) return true;
            var rest = request.Query.Where(q => q.Key != QueryName).Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}");
            string query = string.Join('&', rest);
            context.Response.Redirect(request.PathBase + request.Path + (query.Length > 0 ? "?" + query : ""));
            return false;
        }
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await GenerateEndpoint.Error(context, StatusCodes.Status401Unauthorized,
            "this server needs its token: open the address ldm serve printed (…/?token=…), or send Authorization: Bearer TOKEN");
        return false;
    }

    /// <summary>Constant-time comparison with the token, so the time taken does not tell how much of a guess was right.</summary>
    bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), expected);

    /// <summary>GET, HEAD and OPTIONS only read; everything else may change the server's state (start a generation).</summary>
    static bool ChangesState(string method) => !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));

    /// <summary>
    /// Without a token: http://, a loopback name, this port, nothing else ("null", https, another port or name are
    /// foreign). With one: the scheme and host the request was sent to.
    /// </summary>
    bool IsOwnOrigin(string origin, HttpRequest request, int port)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri) || uri.PathAndQuery != "/" || uri.UserInfo.Length != 0) return false;
        if (expected is not null)
            return string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
        return uri.Scheme == Uri.UriSchemeHttp && uri.Port == port && IsLoopbackName(uri.Host);
    }

    static bool IsLoopbackName(string host) => LoopbackNames.Contains(host, StringComparer.OrdinalIgnoreCase);
}
