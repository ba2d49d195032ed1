using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Server;

namespace LatentDiffusion.Tests.Server;

/// <summary>One <c>ldm serve --token T</c> over <see cref="ServeModels"/> and the shipped docs.</summary>
public sealed class ServeTokenFixture : IDisposable
{
    readonly TempDirectory dir = new();

    public const string Token = "0123456789abcdef0123456789abcdef-test";

    public ServeTokenFixture()
    {
        string docs = RepositoryPaths.Find("docs") ?? throw new DirectoryNotFoundException("docs");
        Server = ServeProcess.Start("--models", ServeModels.Create(dir), "--docs", docs, "--token", Token);
    }

    internal ServeProcess Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        dir.Dispose();
    }
}

/// <summary>
/// <c>ldm serve --token</c>: for a port reached through an SSH tunnel or a reverse proxy. Nothing is answered without
/// the token; the printed address sets a cookie the page's own requests then carry; any host name is answered, but
/// a foreign Origin still is not.
/// </summary>
[Collection("Serve")]
public sealed class ServeTokenTests(ServeTokenFixture fixture) : IClassFixture<ServeTokenFixture>
{
    Uri Url => fixture.Server.Url;

    static HttpClient Client(bool cookies = false) => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = cookies, CookieContainer = new CookieContainer() });

    static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("")]
    [InlineData("app.js")]
    [InlineData("api/models")]
    [InlineData("api/status")]
    [InlineData("docs/part3/index.html")]
    [InlineData("play/")]
    [InlineData("nowhere")]
    public async Task AnyRoute_WithoutTheToken_Is401WithOneLine(string path)
    {
        using HttpClient http = Client();
        foreach (string? bearer in new[] { null, "wrong", ServeTokenFixture.Token + "x", ServeTokenFixture.Token[..^1] })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Url, path));
            if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
            using HttpResponseMessage response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            string error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
            Assert.Contains("token", error);
            Assert.DoesNotContain(ServeTokenFixture.Token, error);
        }
        using HttpResponseMessage post = await http.PostAsync(new Uri(Url, "api/generate"), Body("""{"steps": 2, "count": 1}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }

    [Fact]
    public async Task Bearer_IsAnswered_UnderAnyHostName()
    {
        using HttpClient http = Client();
        foreach (string host in new[] { $"127.0.0.1:{Url.Port}", "localhost:8888", "digits.example.org" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Url, "api/models"));
            request.Headers.Authorization = new("Bearer", ServeTokenFixture.Token);
            request.Headers.Host = host;
            using HttpResponseMessage response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task PrintedAddress_SetsAStrictCookie_RedirectsWithoutTheToken_AndThePageWorksFromThen()
    {
        using HttpClient http = Client(cookies: true);
        using HttpResponseMessage open = await http.GetAsync(new Uri(Url, $"?token={ServeTokenFixture.Token}"));
        Assert.Equal(HttpStatusCode.Redirect, open.StatusCode);
        Assert.Equal("/", open.Headers.Location!.OriginalString);
        string cookie = Assert.Single(open.Headers.GetValues("Set-Cookie"));
        Assert.Contains($"{RequestGuard.CookieName}={ServeTokenFixture.Token}", cookie);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        using HttpResponseMessage page = await http.GetAsync(Url);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Url, "api/generate")) { Content = Body("""{"model": "diffusion", "sampler": "ddim", "steps": 2, "count": 1}""") };
        request.Headers.Add("Origin", $"http://127.0.0.1:{Url.Port}");
        using HttpResponseMessage generated = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
    }

    [Fact]
    public async Task Generate_WithTheToken_FromAForeignOrigin_Is403_FromTheSameHost_Runs()
    {
        using HttpClient http = Client();
        async Task<HttpStatusCode> Post(string host, string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Url, "api/generate")) { Content = Body("""{"model": "diffusion", "sampler": "ddim", "steps": 2, "count": 1}""") };
            request.Headers.Authorization = new("Bearer", ServeTokenFixture.Token);
            request.Headers.Host = host;
            request.Headers.Add("Origin", origin);
            using HttpResponseMessage response = await http.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.Forbidden, await Post("localhost:8888", "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await Post("localhost:8888", "http://localhost:8889"));
        Assert.Equal(HttpStatusCode.Forbidden, await Post("localhost:8888", "null"));
        Assert.Equal(HttpStatusCode.OK, await Post("localhost:8888", "http://localhost:8888"));          // an SSH tunnel's own port
        Assert.Equal(HttpStatusCode.OK, await Post("digits.example.org", "https://digits.example.org"));  // a reverse proxy that keeps the Host
    }

    [Fact]
    public void Tokens_TooShortOrUnsafe_AreRefused_AutoIsLongAndRandom()
    {
        Assert.Contains("at least 32", RequestGuard.TokenProblem("short"));
        Assert.Contains("only letters", RequestGuard.TokenProblem(new string('a', 31) + "&x"));
        Assert.Null(RequestGuard.TokenProblem(ServeTokenFixture.Token));
        string a = RequestGuard.NewToken(), b = RequestGuard.NewToken();
        Assert.Equal(64, a.Length);
        Assert.NotEqual(a, b);
        Assert.Null(RequestGuard.TokenProblem(a));
    }
}
