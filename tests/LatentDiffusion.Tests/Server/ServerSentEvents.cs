using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace LatentDiffusion.Tests.Server;

/// <summary>POST /api/generate as a stream of server-sent events, read the way the page reads them.</summary>
internal static class ServerSentEvents
{
    /// <summary>Sends <paramref name="json"/> asking for events; the response's headers are in, its body not yet read.</summary>
    public static async Task<HttpResponseMessage> Post(HttpClient http, string json, CancellationToken cancellation = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/generate") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
    }

    /// <summary>The events of <paramref name="response"/>'s body, as (name, data) in order.</summary>
    public static async IAsyncEnumerable<(string Name, JsonElement Data)> Read(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellation));
        string name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) yield return (name, JsonDocument.Parse(data.ToString()).RootElement.Clone());
                name = "message";
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Append(line[5..].Trim());
        }
    }
}
