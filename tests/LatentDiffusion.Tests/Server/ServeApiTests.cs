using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Sampling;
using LatentDiffusion.Tests.Reports;

namespace LatentDiffusion.Tests.Server;

/// <summary>One <c>ldm serve</c> over <see cref="ServeModels"/> and the shipped docs, one worker, one place in line.</summary>
public sealed class ServeFixture : IDisposable
{
    readonly TempDirectory dir = new();

    public ServeFixture()
    {
        string docs = RepositoryPaths.Find("docs") ?? throw new DirectoryNotFoundException("docs");
        Server = ServeProcess.Start("--models", ServeModels.Create(dir), "--docs", docs, "--queue", "1");
    }

    internal ServeProcess Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        dir.Dispose();
    }
}

/// <summary>The API on a loopback port: listing, the three answer kinds, bad input, the queue and cancellation.</summary>
[Collection("Serve")]
public sealed class ServeApiTests(ServeFixture fixture) : IClassFixture<ServeFixture>
{
    HttpClient Http => fixture.Server.Http;

    static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    async Task<JsonElement> Status() => await Http.GetFromJsonAsync<JsonElement>("api/status");

    /// <summary>Waits (at most <paramref name="seconds"/>) until the server runs nothing and nothing waits.</summary>
    async Task<JsonElement> Idle(double seconds = 10)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            JsonElement status = await Status();
            if (status.GetProperty("running").GetInt32() == 0 && status.GetProperty("waiting").GetInt32() == 0) return status;
            Assert.True(watch.Elapsed.TotalSeconds < seconds, $"the server is still busy after {seconds} s: {status}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Models_ListsEveryUNetInTheFolder_NotTheRawTwinVaeOrClassifier()
    {
        JsonElement info = await Http.GetFromJsonAsync<JsonElement>("api/models");
        var models = info.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(["diffusion", "misfit", "conditional"], models.Select(m => m.GetProperty("id").GetString()));
        JsonElement ddpm = models[0];
        Assert.Equal("epsilon", ddpm.GetProperty("kind").GetString());
        Assert.Equal(["ddim", "ddpm", "dpmpp2m"], ddpm.GetProperty("samplers").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.True(ddpm.GetProperty("samplers")[1].GetProperty("fixed_steps").GetBoolean());
        Assert.Equal(JsonValueKind.Null, ddpm.GetProperty("problem").ValueKind);
        Assert.Contains("latents of shape (2, 4, 4)", models[1].GetProperty("problem").GetString());
        JsonElement conditional = models[2];
        Assert.True(conditional.GetProperty("conditional").GetBoolean());
        Assert.Equal(10, conditional.GetProperty("classes").GetInt32());
        Assert.Equal(["iadb", "heun", "iadb2m"], conditional.GetProperty("samplers").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        // Every sampler as the library's registry describes it: the page renders these and hard-codes none.
        foreach (JsonElement s in models.Where(m => m.GetProperty("problem").ValueKind == JsonValueKind.Null).SelectMany(m => m.GetProperty("samplers").EnumerateArray()))
        {
            ISampler sampler = Samplers.Find(s.GetProperty("name").GetString()!)!;
            Assert.Equal(sampler.Summary, s.GetProperty("summary").GetString());
            Assert.Equal(sampler.Parameters, s.GetProperty("parameters").EnumerateArray().Select(p => p.GetString()));
            Assert.Equal(sampler.Evaluations(7), 7 * s.GetProperty("evaluations_per_step").GetInt32() + s.GetProperty("evaluations_offset").GetInt32());
        }
        Assert.Equal(50, ddpm.GetProperty("samplers")[0].GetProperty("default_steps").GetInt32());
        Assert.Equal(64, info.GetProperty("limits").GetProperty("max_count").GetInt32());
    }

    [Fact]
    public async Task Generate_Json_ReadsEveryDigitAndTimesIt()
    {
        using HttpResponseMessage response = await Http.PostAsync("api/generate", Body("""{"model": "diffusion", "sampler": "ddim", "steps": 5, "count": 4, "seed": 3}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, result.GetProperty("seed").GetInt64());
        Assert.Equal("ddim", result.GetProperty("sampler").GetString());
        Assert.True(result.GetProperty("seconds").GetDouble() > 0);
        Assert.Equal(1, result.GetProperty("threads").GetInt32());   // 4 digits: one thread (and the test server has one)
        var digits = result.GetProperty("digits").EnumerateArray().ToList();
        Assert.Equal(4, digits.Count);
        Assert.All(digits, d =>
        {
            Assert.InRange(d.GetProperty("label").GetInt32(), 0, 9);
            Assert.InRange(d.GetProperty("confidence").GetDouble(), 0.1, 1.0);
            Assert.Equal(JsonValueKind.Null, d.GetProperty("requested").ValueKind);
        });
        (int width, int height) = ImageAssert.Size(Convert.FromBase64String(result.GetProperty("grid_png").GetString()!));
        Assert.True(width > 4 * 56 && height > 56, $"grid {width}x{height}");

        using HttpResponseMessage again = await Http.PostAsync("api/generate", Body("""{"model": "diffusion", "sampler": "ddim", "steps": 5, "count": 4, "seed": 3}"""));
        JsonElement same = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(result.GetProperty("grid_png").GetString(), same.GetProperty("grid_png").GetString());   // seeded
    }

    [Fact]
    public async Task Generate_AcceptPng_AnswersWithTheGrid()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/generate") { Content = Body("""{"steps": 5, "count": 2}""") };
        request.Headers.Accept.ParseAdd("image/png");
        using HttpResponseMessage response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        (int width, int height) = ImageAssert.Size(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(16 + 30 + 56 + 18 + 16, height);                                       // margin, title, a row of digits, captions, margin
        Assert.True(width >= 2 * 56 + 2 + 32, $"width {width}");
    }

    [Fact]
    public async Task Generate_EventStream_SendsFramesWhileSamplingThenTheResult()
    {
        using HttpResponseMessage response = await ServerSentEvents.Post(Http, """{"model": "diffusion", "steps": 120, "count": 8, "seed": 1}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string Name, JsonElement Data)>();
        await foreach (var e in ServerSentEvents.Read(response)) events.Add(e);
        Assert.Equal("started", events[0].Name);
        Assert.Equal("result", events[^1].Name);
        var frames = events.Where(e => e.Name == "frame").Select(e => e.Data).ToList();
        Assert.Equal(events.Count - 2, frames.Count);
        Assert.Equal(24, frames.Count);                                                     // every 5th of 120 steps: at most 25 frames
        Assert.Equal(Enumerable.Range(1, 24).Select(k => 5 * k), frames.Select(f => f.GetProperty("step").GetInt32()));
        (int Width, int Height) final = ImageAssert.Size(Convert.FromBase64String(events[^1].Data.GetProperty("grid_png").GetString()!));
        Assert.All(frames, f => Assert.Equal(final, ImageAssert.Size(Convert.FromBase64String(f.GetProperty("png").GetString()!))));
    }

    [Fact]
    public async Task Generate_ConditionalDigit_AsksEverySampleForIt()
    {
        using HttpResponseMessage response = await Http.PostAsync("api/generate", Body("""{"model": "conditional", "digit": 3, "guidance": 2.5, "steps": 4, "count": 3, "heun": true}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("heun", result.GetProperty("sampler").GetString());                   // "heun": true is the sampler heun
        Assert.Equal(7, result.GetProperty("evaluations").GetInt32());                     // Heun: 2S − 1
        Assert.Equal(2.5, result.GetProperty("guidance").GetDouble());
        Assert.All(result.GetProperty("digits").EnumerateArray(), d => Assert.Equal(3, d.GetProperty("requested").GetInt32()));
    }

    [Theory]
    [InlineData("""{"model": "nope"}""", "unknown model 'nope'")]
    [InlineData("""{"steps": 0}""", "steps must be between 1 and 1000 (got 0)")]
    [InlineData("""{"count": 100000}""", "count must be between 1 and 64 (got 100000)")]
    [InlineData("""{"model": "conditional", "digit": 11}""", "digit must be 0-9")]
    [InlineData("""{"steps": 5, "count": 2""", "malformed JSON")]
    [InlineData("""{"model": "misfit"}""", "model 'misfit' cannot be used")]
    public async Task Generate_BadInput_Is400WithOneLine_AndTheServerServesTheNext(string json, string reason)
    {
        long invalid = (await Status()).GetProperty("invalid").GetInt64();
        using HttpResponseMessage response = await Http.PostAsync("api/generate", Body(json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
        Assert.Contains(reason, error);
        Assert.DoesNotContain('\n', error);
        Assert.Equal(invalid + 1, (await Status()).GetProperty("invalid").GetInt64());
        using HttpResponseMessage next = await Http.PostAsync("api/generate", Body("""{"steps": 2, "count": 1}"""));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Trait("Category", "Slow")]
    [Fact]
    public async Task Queue_SecondWaitsWithItsPlace_ThirdIs429_ClosingTheFirstCancelsItAndStartsTheSecond()
    {
        await Idle();
        long cancelled = (await Status()).GetProperty("cancelled").GetInt64();
        const string Long = """{"model": "diffusion", "sampler": "ddpm", "count": 64, "seed": 5}""";   // 1000 steps: seconds
        using var first = await ServerSentEvents.Post(Http, Long);
        await using var firstEvents = ServerSentEvents.Read(first).GetAsyncEnumerator();
        Assert.True(await firstEvents.MoveNextAsync());
        Assert.Equal("started", firstEvents.Current.Name);

        using var second = await ServerSentEvents.Post(Http, """{"model": "diffusion", "steps": 3, "count": 2}""");
        await using var secondEvents = ServerSentEvents.Read(second).GetAsyncEnumerator();
        Assert.True(await secondEvents.MoveNextAsync());
        Assert.Equal("queued", secondEvents.Current.Name);
        Assert.Equal(1, secondEvents.Current.Data.GetProperty("position").GetInt32());

        using HttpResponseMessage third = await Http.PostAsync("api/generate", Body("""{"steps": 3, "count": 1}"""));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("queue is full", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        var closed = System.Diagnostics.Stopwatch.StartNew();
        await firstEvents.DisposeAsync();
        first.Dispose();                                                                    // the browser tab closes
        var names = new List<string>();
        while (await secondEvents.MoveNextAsync()) names.Add(secondEvents.Current.Name);
        Assert.Equal("started", names[0]);
        Assert.Equal("result", names[^1]);
        Assert.True(closed.Elapsed.TotalSeconds < 10, $"the second waited {closed.Elapsed.TotalSeconds:F1} s after the first was closed");
        JsonElement status = await Idle();
        Assert.Equal(cancelled + 1, status.GetProperty("cancelled").GetInt64());
        Assert.Contains("cancelled: diffusion: 64 digits", fixture.Server.Log);
    }

    [Fact]
    public async Task Page_ScriptAndDocs_AreServed()
    {
        string page = await Http.GetStringAsync("");
        Assert.Contains("<script src=\"app.js\"></script>", page);
        Assert.Contains("readEvents", await Http.GetStringAsync("app.js"));
        Assert.Contains("#grid", await Http.GetStringAsync("app.css"));
        JsonElement reports = await Http.GetFromJsonAsync<JsonElement>("api/reports");
        var names = reports.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Contains("part3", names);
        Assert.DoesNotContain("play", names);                                              // the browser page is served at /play, not a report
        Assert.Contains("<script src=\"runtime.js\"></script>", await Http.GetStringAsync("play"));   // /play → /play/ → index.html
        Assert.Contains("LdmSampler", await Http.GetStringAsync("play/sampler.js"));
        using HttpResponseMessage outOfPlay = await Http.GetAsync("play/../../models/classifier.safetensors");
        Assert.Equal(HttpStatusCode.NotFound, outOfPlay.StatusCode);
        Assert.Contains("<h2>FID</h2>", await Http.GetStringAsync("docs/part3/index.html"));
        using HttpResponseMessage figure = await Http.GetAsync("docs/part3/samples.png");
        Assert.Equal("image/png", figure.Content.Headers.ContentType?.MediaType);
        using HttpResponseMessage missing = await Http.GetAsync("docs/../models/classifier.safetensors");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
