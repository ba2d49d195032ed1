using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LatentDiffusion.Diffusion;
using LatentDiffusion.IO;
using LatentDiffusion.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// One <c>ldm serve</c> over <see cref="ServeModels"/> plus <c>damaged.safetensors</c>: a class-conditional UNet whose
/// weights are NaN, as a damaged file would hold (it loads; everything it makes is NaN).
/// </summary>
public sealed class ServeFuzzFixture : IDisposable
{
    readonly TempDirectory dir = new();

    public ServeFuzzFixture()
    {
        string models = ServeModels.Create(dir);
        var config = new DiffusionConfig
        {
            UNet = new UNetConfig { LatentChannels = 8, Widths = [8, 16], Classes = 10 },
            Objective = DiffusionObjective.AlphaDeblending,
        };
        using (var unet = new UNet(config.UNet))
        {
            using (no_grad())
                foreach (var (_, p) in unet.named_parameters()) p.fill_(float.NaN);
            ModelWeights.Save(unet, Path.Combine(models, "damaged.safetensors"),
                new Dictionary<string, string> { ["architecture"] = nameof(UNet), ["config"] = JsonSerializer.Serialize(config) });
        }
        Server = ServeProcess.Start("--models", models, "--queue", "1");
    }

    internal ServeProcess Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        dir.Dispose();
    }
}

/// <summary>
/// The API under every value a field can be given — extreme, negative zero, huge, non-finite, of the wrong type,
/// oversized — and under random JSON and random bytes: never a 5xx, never an empty body, never a non-finite pixel,
/// and the server answers after each request. A model whose samples come out non-finite is answered 422 (an
/// <c>error</c> event in a stream), never as digits.
/// </summary>
[Collection("Serve")]
[Trait("Category", "Slow")]
public sealed class ServeFuzzTests(ServeFuzzFixture fixture) : IClassFixture<ServeFuzzFixture>
{
    HttpClient Http => fixture.Server.Http;

    const string Base = """{"model": "conditional", "steps": 2, "count": 2, "seed": 1}""";

    static readonly string[] Fields = ["model", "sampler", "steps", "count", "seed", "class", "digit", "guidance", "eta", "heun"];

    /// <summary>JSON values for any field: numbers at and past every limit, −0, non-finite spelled as strings, wrong types, a huge string.</summary>
    static readonly string[] Values =
    [
        "0", "-0", "-0.0", "1", "-1", "0.5", "2", "3", "9", "10", "20", "20.000001", "1e308", "-1e308", "1e400", "1e-320", "4.9e-324",
        "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1\"", "\"\"", "\"ddim\"", "\"heun\"", "\"dpmpp2m\"", "\"diffusion\"", "\"damaged\"",
        "\"con\\u0000ditional\"", "\"\\u001b[31m\"", "true", "false", "null", "[]", "{}", "[1]", "{\"a\": 1}",
        "\"" + new string('x', 5000) + "\"",
    ];

    /// <summary>Posts <paramref name="body"/> and checks the answer's invariants; returns the status.</summary>
    async Task<HttpStatusCode> Probe(byte[] body, string accept = "application/json", string what = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/generate") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        using HttpResponseMessage response = await Http.SendAsync(request);
        byte[] answer = await response.Content.ReadAsByteArrayAsync();
        string context = $"{what} → {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer.AsSpan(0, Math.Min(answer.Length, 300)))}\n{fixture.Server.Log}";
        Assert.True((int)response.StatusCode < 500, context);
        Assert.True(answer.Length > 0, "empty body: " + context);
        if (response.StatusCode == HttpStatusCode.OK && accept == "image/png") AssertPng(answer, context);
        else if (response.StatusCode == HttpStatusCode.OK)
        {
            using JsonDocument json = JsonDocument.Parse(answer);
            foreach (JsonElement digit in json.RootElement.GetProperty("digits").EnumerateArray())
                Assert.True(double.IsFinite(digit.GetProperty("confidence").GetDouble()), context);
            AssertPng(json.RootElement.GetProperty("grid_png").GetBytesFromBase64(), context);
        }
        else
        {
            using JsonDocument json = JsonDocument.Parse(answer);
            string error = json.RootElement.GetProperty("error").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(error), context);
            Assert.DoesNotContain('\n', error);
        }
        using HttpResponseMessage status = await Http.GetAsync("api/status");   // still up
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        return response.StatusCode;
    }

    static void AssertPng(byte[] png, string context)
    {
        using SKBitmap? bitmap = SKBitmap.Decode(png);
        Assert.True(bitmap is not null && bitmap.Width > 0 && bitmap.Height > 0, "not a PNG: " + context);
    }

    [Fact]
    public async Task EveryField_EveryValue_NeverA5xxAnEmptyBodyOrANonFinitePixel()
    {
        var statuses = new Dictionary<HttpStatusCode, int>();
        foreach (string field in Fields)
            foreach (string value in Values)
            {
                // The field replaced in (or added to) the base request, so that everything else in it is valid.
                HttpStatusCode status = await Probe(Encoding.UTF8.GetBytes(RawField(field, value)), what: $"{field} = {Short(value)}");
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 20, "too few requests ran: the base request is broken? " + string.Join(", ", statuses));
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 100, string.Join(", ", statuses));
    }

    /// <summary>The base request with <paramref name="field"/> set to the raw JSON text <paramref name="value"/> (so 1e400 and −0 reach the server as written).</summary>
    static string RawField(string field, string value)
    {
        var others = JsonNode(Base);
        others.Remove(field);
        string rest = others.ToJsonString().TrimStart('{').TrimEnd('}');
        return "{" + (rest.Length > 0 ? rest + ", " : "") + $"\"{field}\": {value}" + "}";
    }

    static System.Text.Json.Nodes.JsonObject JsonNode(string json) => (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(json)!;

    static string Short(string value) => value.Length > 40 ? value[..20] + $"…({value.Length} chars)" : value;

    [Fact]
    public async Task RandomJsonAndRandomBytes_NeverA5xxOrAnEmptyBody()
    {
        var random = new Random(2026);
        for (int i = 0; i < 150; i++)
        {
            string json = RandomObject(random, depth: 0);
            await Probe(Encoding.UTF8.GetBytes(json), what: $"random JSON #{i}: {Short(json)}");
        }
        for (int i = 0; i < 40; i++)
        {
            byte[] bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            if (i % 2 == 0) bytes[0] = (byte)'{';
            await Probe(bytes, what: $"random bytes #{i}");
        }
    }

    /// <summary>A random object: mostly the API's own field names with values from <see cref="Values"/> or random nested JSON, sometimes other names.</summary>
    static string RandomObject(Random random, int depth)
    {
        int n = random.Next(0, 6);
        var parts = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string name = random.Next(5) == 0 ? $"f{random.Next(100)}" : Fields[random.Next(Fields.Length)];
            parts.Add($"\"{name}\": {RandomValue(random, depth + 1)}");
        }
        return "{" + string.Join(", ", parts) + "}";
    }

    static string RandomValue(Random random, int depth) => random.Next(depth > 2 ? 3 : 5) switch
    {
        0 => Values[random.Next(Values.Length)],
        1 => random.Next(-5, 70).ToString(CultureInfo.InvariantCulture),
        2 => (random.NextDouble() * Math.Pow(10, random.Next(-10, 10)) * (random.Next(2) == 0 ? -1 : 1)).ToString("R", CultureInfo.InvariantCulture),
        3 => RandomObject(random, depth),
        _ => "[" + string.Join(", ", Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1))) + "]",
    };

    [Fact]
    public async Task NonFiniteSamples_Are422_AsJsonAsPngAndAsAStreamErrorEvent_AndCountedAsFailed()
    {
        const string Damaged = """{"model": "damaged", "digit": 3, "steps": 2, "count": 2}""";
        int failedBefore = (await Http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("failed").GetInt32();
        foreach (string accept in new[] { "application/json", "image/png" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "api/generate") { Content = new StringContent(Damaged, Encoding.UTF8, "application/json") };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            using HttpResponseMessage response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            string error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
            Assert.Contains("non-finite values (NaN or ∞)", error);
        }
        using (HttpResponseMessage stream = await ServerSentEvents.Post(Http, Damaged))
        {
            var events = new List<(string Name, JsonElement Data)>();
            await foreach (var e in ServerSentEvents.Read(stream)) events.Add(e);
            Assert.DoesNotContain(events, e => e.Name is "result" or "frame");
            Assert.Equal("error", events[^1].Name);
            Assert.Contains("non-finite", events[^1].Data.GetProperty("error").GetString());
        }
        JsonElement status = await Http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.Equal(failedBefore + 3, status.GetProperty("failed").GetInt32());
        Assert.Equal(0, status.GetProperty("running").GetInt32());
        Assert.Contains("non-finite", fixture.Server.Log);
    }
}
