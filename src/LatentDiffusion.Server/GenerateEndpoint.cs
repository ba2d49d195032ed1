using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using LatentDiffusion.Sampling;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LatentDiffusion.Server;

/// <summary>
/// <c>POST /api/generate</c>: checks the request (415 unless its body is sent as JSON, 400 with one line when it cannot
/// work), takes a place in the <see cref="GenerationQueue"/> (429 when it is full, 503 while the server stops), runs
/// the generation on one of the <see cref="GenerationThreads"/> and answers by the request's Accept header —
/// <c>application/json</c> (default): the digits' readings and the grid as base64 PNG; <c>image/png</c>: the grid
/// itself; <c>text/event-stream</c>: server-sent events <c>queued</c> (place in line), <c>started</c>, <c>frame</c> (a PNG grid every few steps), then
/// <c>result</c> or <c>error</c>. Samples that came out non-finite are never answered as digits: 422 with the reason
/// (or an <c>error</c> event once the stream has begun). A client that goes away cancels its generation (the sampler stops between steps) or
/// gives up its place in line.
/// </summary>
public sealed class GenerateEndpoint(ModelCatalog catalog, GenerationQueue queue, GenerationThreads threads, GenerationRunner runner,
    ServerOptions options, ServerCounters counters, CancellationToken stopping)
{
    /// <summary>Largest request body read; the fields of a request fit in a few hundred bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,   // "ε" and base64's "+" as they are: the answers are JSON, never inlined in HTML
    };

    public async Task Handle(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        CancellationToken token = linked.Token;
        if (stopping.IsCancellationRequested)
        {
            await Error(context, StatusCodes.Status503ServiceUnavailable, "the server is shutting down");
            return;
        }
        if (!context.Request.HasJsonContentType())
        {
            // A form or text/plain body is what any web page can send without the browser asking first (no CORS
            // preflight): refusing it keeps other sites from filling the queue.
            counters.Refuse();
            const string NotJson = "the body must be sent as Content-Type: application/json";
            Log($"415: {NotJson}");
            await Error(context, StatusCodes.Status415UnsupportedMediaType, NotJson);
            return;
        }
        byte[]? body = await ReadBody(context.Request, token);
        if (body is null)
        {
            counters.Refuse();
            string tooLarge = $"request body larger than {MaxBodyBytes} bytes";
            Log($"413: {tooLarge}");
            await Error(context, StatusCodes.Status413PayloadTooLarge, tooLarge);
            return;
        }
        (GenerationRequest? request, string? problem) = GenerationRequest.Parse(body);
        GenerationJob? job = null;
        if (request is not null) (job, problem) = request.Resolve(catalog.List(), options);
        if (job is null)
        {
            counters.Refuse();
            Log($"400: {LogText.Escape(problem!, LogText.MaxRequestChars)}");
            await Error(context, StatusCodes.Status400BadRequest, problem!);
            return;
        }
        using GenerationQueue.Ticket? ticket = queue.TryEnter();
        if (ticket is null)
        {
            counters.Reject();
            context.Response.Headers.RetryAfter = "2";
            await Error(context, StatusCodes.Status429TooManyRequests,
                $"the queue is full ({queue.Running} running, {queue.Waiting} waiting); try again shortly");
            return;
        }
        string accept = context.Request.Headers.Accept.ToString();
        bool stream = accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
        try
        {
            if (stream) await Stream(context, job, ticket, token);
            else await Answer(context, job, ticket, accept.Contains("image/png", StringComparison.OrdinalIgnoreCase), token);
        }
        catch (NonFiniteSamplesException e)
        {
            // What these options made of this model is not a picture: say so (422: the request, not the server, is
            // what to change) rather than send NaN readings or a white grid.
            if (!context.Response.HasStarted) await Error(context, StatusCodes.Status422UnprocessableEntity, e.Message);
            else if (stream) await Send(context.Response, "error", new { error = e.Message }, CancellationToken.None);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            counters.Cancel();
            Log($"cancelled: {job.Describe()}{(stopping.IsCancellationRequested ? " (server stopping)" : " (client left)")}");
            if (context.RequestAborted.IsCancellationRequested) return;                      // nobody left to tell
            if (!context.Response.HasStarted) await Error(context, StatusCodes.Status503ServiceUnavailable, "the server is shutting down");
            else if (stream) await Send(context.Response, "error", new { error = "the server is shutting down" }, CancellationToken.None);
        }
    }

    /// <summary>Waits for a worker, then answers with JSON or the PNG grid.</summary>
    async Task Answer(HttpContext context, GenerationJob job, GenerationQueue.Ticket ticket, bool png, CancellationToken token)
    {
        var waited = Stopwatch.StartNew();
        await ticket.Started.WaitAsync(token);
        double queued = waited.Elapsed.TotalSeconds;
        GenerationResult? result = await Run(job, null, token);
        if (result is null)
        {
            await Error(context, StatusCodes.Status500InternalServerError, "the generation failed; the server log says why");
            return;
        }
        if (png)
        {
            context.Response.ContentType = "image/png";
            await context.Response.Body.WriteAsync(result.GridPng, token);
        }
        else
        {
            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.Body, ResultJson(result, queued), Json, token);
        }
    }

    /// <summary>Server-sent events: the place in line while waiting, every frame while sampling, then the result.</summary>
    async Task Stream(HttpContext context, GenerationJob job, GenerationQueue.Ticket ticket, CancellationToken token)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var waited = Stopwatch.StartNew();
        int last = -1;
        var beat = Stopwatch.StartNew();
        while (!ticket.Started.IsCompleted)
        {
            int position = ticket.Position;
            if (position != last && position > 0)
            {
                await Send(response, "queued", new { position, running = queue.Running, waiting = queue.Waiting }, token);
                last = position;
                beat.Restart();
            }
            else if (beat.Elapsed > TimeSpan.FromSeconds(2))
            {
                await response.WriteAsync(": waiting\n\n", token);   // a comment: finds a client that has gone
                await response.Body.FlushAsync(token);
                beat.Restart();
            }
            await Task.WhenAny(ticket.Started, Task.Delay(200, token));
            token.ThrowIfCancellationRequested();
        }
        double queued = waited.Elapsed.TotalSeconds;
        var config = job.Model.Config!;
        await Send(response, "started", new
        {
            model = job.Model.Id, sampler = job.Options.SamplerFor(config).Name, steps = job.Options.StepsFor(config),
            count = job.Count, seed = job.Seed, queued_seconds = queued,
        }, token);
        var frames = Channel.CreateUnbounded<GenerationFrame>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Task<GenerationResult?> work = Run(job, frames.Writer, token);
        try
        {
            await foreach (GenerationFrame frame in frames.Reader.ReadAllAsync(token))
                await Send(response, "frame", new { step = frame.Step, steps = frame.Steps, png = frame.Png }, token);   // byte[]: base64 as it is written
            GenerationResult? result = await work;
            if (result is null) await Send(response, "error", new { error = "the generation failed; the server log says why" }, token);
            else await Send(response, "result", ResultJson(result, queued), token);
        }
        finally
        {
            await ((Task)work).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);   // the worker is free only when sampling has stopped
        }
    }

    /// <summary>
    /// Runs the job on one of the <see cref="GenerationThreads"/> (sampling blocks); frames, if wanted, go to
    /// <paramref name="frames"/>, which is completed at the end. Null when the generation failed (logged, counted);
    /// cancellation is thrown.
    /// </summary>
    Task<GenerationResult?> Run(GenerationJob job, ChannelWriter<GenerationFrame>? frames, CancellationToken token) =>
        threads.Run<GenerationResult?>(() =>
        {
            try
            {
                GenerationResult result = runner.Run(job, frames is null ? null : f => frames.TryWrite(f), token);
                counters.Complete();
                Log($"{job.Describe()}: {result.Seconds:F2} s");
                return result;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                throw;
            }
            catch (NonFiniteSamplesException e)
            {
                counters.Fail();
                Log($"failed: {job.Describe()}: {e.Message}");
                throw;
            }
            catch (Exception e)
            {
                counters.Fail();
                Log($"failed: {job.Describe()}: {e.GetType().Name}: {e.Message}");
                return null;
            }
            finally
            {
                frames?.TryComplete();
            }
        });

    /// <summary>One line to the server's log, control characters escaped (a model's id is a file name, a reason may quote the request).</summary>
    void Log(string line) => options.Log?.Invoke(LogText.Escape(line));

    /// <summary>The JSON answer: what ran, each digit's reading, the time taken and the grid as base64 PNG.</summary>
    static object ResultJson(GenerationResult result, double queuedSeconds)
    {
        GenerationJob job = result.Job;
        var config = job.Model.Config!;
        return new
        {
            model = job.Model.Id,
            description = job.Model.Description,
            sampler = job.Options.SamplerFor(config).Name,
            steps = job.Options.StepsFor(config),
            evaluations = job.Options.EvaluationsFor(config),
            eta = job.Options.Eta,
            count = job.Count,
            seed = job.Seed,
            digit = job.Class,                                                               // the class index, under its MNIST name, as before class
            @class = job.Class,
            class_name = job.Class is int c ? job.Model.ClassName(c) : null,
            dataset = job.Model.DatasetName,
            guidance = job.Options.Labels is null ? (double?)null : job.Options.Guidance,
            seconds = result.Seconds,
            queued_seconds = queuedSeconds,
            threads = result.Threads,
            columns = result.Columns,
            digits = result.Digits.Select(d => new
            {
                index = d.Index, requested = d.Requested, label = d.Label, confidence = d.Confidence,
                requested_name = d.Requested is int r ? job.Model.ClassName(r) : null, label_name = job.Model.ClassName(d.Label),
            }),
            grid_png = result.GridPng,                                                       // byte[]: base64 as it is written
        };
    }

    /// <summary>One server-sent event, its JSON written straight into the response (no string of the whole event: frames are ~100 kB).</summary>
    static async Task Send(HttpResponse response, string name, object data, CancellationToken token)
    {
        await response.WriteAsync($"event: {name}\ndata: ", token);
        await JsonSerializer.SerializeAsync(response.Body, data, Json, token);
        await response.WriteAsync("\n\n", token);
        await response.Body.FlushAsync(token);
    }

    /// <summary>An error answer: the status and {"error": "one line"}.</summary>
    internal static async Task Error(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = message }, Json));
    }

    /// <summary>
    /// The body, or null when it is larger than <see cref="MaxBodyBytes"/>: declared so by Content-Length, or found so
    /// while reading a chunked one (by us, or by Kestrel's limit of the same size, which throws 413 on its own).
    /// </summary>
    static async Task<byte[]?> ReadBody(HttpRequest request, CancellationToken token)
    {
        if (request.ContentLength > MaxBodyBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, token)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        return buffer.ToArray();
    }
}
