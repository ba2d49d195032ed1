using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// DNS rebinding: a page whose own name later resolves to 127.0.0.1 reaches the server with its name in the Host
/// header. Only the loopback names, with the server's port, are answered, on every route.
/// </summary>
[Collection("Serve")]
public sealed class ServeHostTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    HttpClient Http => fixture.Server.Http;

    string Port => fixture.Server.Url.Port.ToString(CultureInfo.InvariantCulture);

    async Task<HttpResponseMessage> Send(HttpMethod method, string path, string host)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Host = host.Replace("{port}", Port);
        if (method == HttpMethod.Post) request.Content = new StringContent("""{"steps": 2, "count": 1}""", Encoding.UTF8, "application/json");
        return await Http.SendAsync(request);
    }

    public static TheoryData<string> Routes => ["", "app.js", "api/models", "api/status", "api/reports", "docs/part3/index.html", "play/", "play/runtime.js", "nowhere"];

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task AnyRoute_ForeignHost_Is421WithOneLine(string path)
    {
        foreach (string host in new[] { "evil.example:{port}", "evil.example", "localhost.evil.example:{port}", "127.0.0.1:1" })
        {
            using HttpResponseMessage response = await Send(HttpMethod.Get, path, host);
            Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
            string error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
            Assert.Contains("host", error);
            Assert.DoesNotContain('\n', error);
        }
    }

    [Fact]
    public async Task Generate_ForeignHost_Is421()
    {
        using HttpResponseMessage response = await Send(HttpMethod.Post, "api/generate", "evil.example:{port}");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1:{port}")]
    [InlineData("localhost:{port}")]
    [InlineData("LocalHost:{port}")]
    [InlineData("[::1]:{port}")]
    public async Task Models_LoopbackHostWithThePort_IsAnswered(string host)
    {
        using HttpResponseMessage response = await Send(HttpMethod.Get, "api/models", host);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
