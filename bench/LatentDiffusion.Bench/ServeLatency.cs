using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using LatentDiffusion.Server;

namespace LatentDiffusion.Bench;

/// <summary>
/// How long the served page waits for its digits: <c>ldm serve</c>'s server started in this process on a free port
/// with the models folder, then <c>POST /api/generate</c> with the page's defaults (the first listed model — the
/// distilled student, "instant" — its default steps and 16 digits), one request at a time after untimed warm-ups.
/// Reported: the client's round trip (request written to answer parsed: sampling, the classifier's reading, the grid's
/// PNG, JSON and base64 included) and the server's own <c>seconds</c> (sampling, reading, grid), median, 90th percentile
/// and best.
/// </summary>
public static class ServeLatency
{
    /// <summary>Times <paramref name="requests"/> requests of <paramref name="count"/> digits; <paramref name="oneThreadUpTo"/> is the server's <see cref="ServerOptions.OneThreadUpTo"/> (null: its default).</summary>
    public static string Run(string modelsDirectory, int requests, int count, int warmups, int? oneThreadUpTo, Action<string> log, string? modelId = null)
    {
        var folder = new ServedFolder(modelsDirectory, Path.Combine(modelsDirectory, "latent-vae.safetensors"), Path.Combine(modelsDirectory, "classifier.safetensors"));
        var options = new ServerOptions { Folders = [folder], Port = 0 };
        if (oneThreadUpTo is int upTo) options = options with { OneThreadUpTo = upTo };
        return RunAsync(options, requests, count, warmups, modelId, log).GetAwaiter().GetResult();
    }

    static async Task<string> RunAsync(ServerOptions options, int requests, int count, int warmups, string? modelId, Action<string> log)
    {
        await using LdmServer server = await LdmServer.StartAsync(options);
        using var http = new HttpClient { BaseAddress = server.Url };
        var roundTrips = new List<double>();
        var serverSeconds = new List<double>();
        string model = "", sampler = "";
        int steps = 0;
        for (int i = 0; i < warmups + requests; i++)
        {
            var clock = Stopwatch.StartNew();
            using HttpResponseMessage response = await (modelId is null ? http.PostAsJsonAsync("api/generate", new { count, seed = i }) : http.PostAsJsonAsync("api/generate", new { count, seed = i, model = modelId }));
            response.EnsureSuccessStatusCode();
            using JsonDocument answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            double ms = clock.Elapsed.TotalMilliseconds;
            JsonElement root = answer.RootElement;
            model = root.GetProperty("model").GetString()!;
            sampler = root.GetProperty("sampler").GetString()!;
            steps = root.GetProperty("steps").GetInt32();
            if (i < warmups) continue;
            roundTrips.Add(ms);
            serverSeconds.Add(1000 * root.GetProperty("seconds").GetDouble());
        }
        log($"{model}, {sampler} {steps} steps, {count} digits, {requests} requests, one thread up to {options.OneThreadUpTo}: round trip median {Statistics.Median(roundTrips):F1} ms, server {Statistics.Median(serverSeconds):F1} ms");
        return JsonSerializer.Serialize(new
        {
            model, sampler, steps, count, requests, warmups,
            threads = TorchSharp.torch.get_num_threads(),
            one_thread_up_to = options.OneThreadUpTo,
            round_trip_ms = Summary(roundTrips),
            server_ms = Summary(serverSeconds),
        }, new JsonSerializerOptions { WriteIndented = true });
    }

    static object Summary(List<double> ms)
    {
        double[] sorted = [.. ms.Order()];
        return new { median = Statistics.Median(ms), p90 = sorted[(int)Math.Ceiling(0.9 * sorted.Length) - 1], best = sorted[0], worst = sorted[^1] };
    }
}
