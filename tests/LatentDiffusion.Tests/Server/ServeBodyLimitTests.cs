using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LatentDiffusion.Tests.Server;

/// <summary>A body over the limit gets one answer, 413 with the one-line reason, counted invalid, whether its length is declared or chunked.</summary>
[Collection("Serve")]
public sealed class ServeBodyLimitTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    HttpClient Http => fixture.Server.Http;

    /// <summary>A body whose length is not known in advance: sent with Transfer-Encoding: chunked.</summary>
    sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    static byte[] Oversized() => Encoding.UTF8.GetBytes("""{"model": " """ + new string('x', 70_000) + "\"}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Generate_BodyOverTheLimit_Is413WithOneLine_CountedInvalid(bool chunked)
    {
        long invalid = (await Http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("invalid").GetInt64();
        HttpContent content = chunked ? new ChunkedContent(Oversized()) : new ByteArrayContent(Oversized());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await Http.PostAsync("api/generate", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        string error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
        Assert.Equal("request body larger than 65536 bytes", error);
        Assert.Equal(invalid + 1, (await Http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("invalid").GetInt64());
    }
}
