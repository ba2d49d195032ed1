using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// What another web page open in the user's browser can send: a "simple" request (text/plain or a form, no preflight)
/// or any request with its own Origin. Neither may start a generation; the page's own requests (JSON, no Origin or the
/// server's) still do.
/// </summary>
[Collection("Serve")]
public sealed class ServeCrossSiteTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    HttpClient Http => fixture.Server.Http;

    const string Small = """{"steps": 2, "count": 1}""";

    async Task<long> Invalid() => (await Http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("invalid").GetInt64();

    static async Task<string> OneLineError(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        string error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
        Assert.DoesNotContain('\n', error);
        return error;
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task Generate_NotJsonContentType_Is415_CountedInvalid(string type)
    {
        long invalid = await Invalid();
        var content = new StringContent(Small, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
        using HttpResponseMessage response = await Http.PostAsync("api/generate", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/json", await OneLineError(response));
        Assert.Equal(invalid + 1, await Invalid());
    }

    [Fact]
    public async Task Generate_NoContentType_Is415()
    {
        using HttpResponseMessage response = await Http.PostAsync("api/generate", new ByteArrayContent(Encoding.UTF8.GetBytes(Small)));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1.evil.example")]
    [InlineData("https://127.0.0.1")]
    public async Task Generate_ForeignOrigin_Is403(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/generate") { Content = new StringContent(Small, Encoding.UTF8, "application/json") };
        request.Headers.Add("Origin", origin);
        using HttpResponseMessage response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("origin", await OneLineError(response));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("http://127.0.0.1:{port}")]
    [InlineData("http://localhost:{port}")]
    public async Task Generate_JsonFromThePageOrNoOrigin_Runs(string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/generate") { Content = new StringContent(Small, Encoding.UTF8, "application/json") };
        if (origin is not null) request.Headers.Add("Origin", origin.Replace("{port}", fixture.Server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using HttpResponseMessage response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
