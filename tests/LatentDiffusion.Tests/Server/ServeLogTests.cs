using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LatentDiffusion.Tests.Server;

/// <summary>What a request puts in the server's log: control characters escaped (no forged lines, no terminal codes), its length capped.</summary>
[Collection("Serve")]
public sealed class ServeLogTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    async Task Post(string model)
    {
        string json = JsonSerializer.Serialize(new { model });
        using HttpResponseMessage response = await fixture.Server.Http.PostAsync("api/generate", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The server's log once it holds <paramref name="marker"/> (the stderr reader runs behind the answer).</summary>
    string LogWith(string marker)
    {
        Cli.LdmProcess.WaitUntil(() => fixture.Server.Log.Contains(marker, StringComparison.Ordinal), $"'{marker}' in the server log", 10);
        return fixture.Server.Log;
    }

    [Fact]
    public async Task Generate_ModelWithNewlineEscBel_IsLoggedEscapedOnOneLine()
    {
        await Post("inj1\n12:00:00 FORGED line\u001b[31mred\u0007\r\u2028x");
        string log = LogWith("inj1");
        Assert.DoesNotContain('\u001b', log);
        Assert.DoesNotContain('\u0007', log);
        Assert.DoesNotContain('\r', log);
        Assert.DoesNotContain('\u2028', log);
        Assert.DoesNotContain(log.Split('\n'), line => line.StartsWith("12:00:00 FORGED", StringComparison.Ordinal));
        string line = log.Split('\n').Single(l => l.Contains("inj1", StringComparison.Ordinal));
        Assert.Contains(@"inj1\n12:00:00 FORGED line", line);
    }

    [Fact]
    public async Task Generate_60KbModelName_IsLoggedCapped()
    {
        await Post("inj2" + new string('x', 60_000));
        string log = LogWith("inj2");
        Assert.InRange(log.Count(c => c == 'x'), 1, 300);                                  // the log may wrap lines: count, not measure one
        Assert.Contains("…", log);
    }
}
