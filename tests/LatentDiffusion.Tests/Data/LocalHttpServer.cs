using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace LatentDiffusion.Tests.Data;

/// <summary>
/// A mirror server on 127.0.0.1 (a free port) for the download tests. A request for <c>/{behaviour}/{file}</c> gets
/// <c>file</c> served the way <c>behaviour</c> says: <c>good</c>, <c>notfound</c>, <c>half-chunked</c> (a clean
/// response cut in half), <c>broken</c> (connection dropped mid-body), <c>stall</c> (no response),
/// <c>stall-body</c> (a first chunk, then nothing), <c>huge</c> (announces 4 GB), <c>alt</c> (the alternative bytes).
/// </summary>
internal sealed class LocalHttpServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly CancellationTokenSource stopping = new();
    readonly IReadOnlyDictionary<string, byte[]> files;
    readonly IReadOnlyDictionary<string, byte[]> alternative;

    /// <param name="files">Bodies by file name (e.g. <c>train-images-idx3-ubyte.gz</c>).</param>
    /// <param name="alternative">Bodies served under <c>alt/</c>: another compression, or wrong content.</param>
    public LocalHttpServer(IReadOnlyDictionary<string, byte[]> files, IReadOnlyDictionary<string, byte[]>? alternative = null)
    {
        this.files = files;
        this.alternative = alternative ?? files;
        int port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(BaseAddress.ToString());
        listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    public Uri BaseAddress { get; }

    /// <summary>Paths requested so far, in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The base address of a mirror with the given behaviour.</summary>
    public Uri Mirror(string behaviour) => new(BaseAddress, behaviour + "/");

    /// <summary>A loopback port nobody listens on right now (connections to it are refused).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        stopping.Cancel();
        listener.Close();
    }

    async Task AcceptLoop()
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;   // listener closed
            }
            Requests.Enqueue(context.Request.Url!.AbsolutePath);
            _ = Task.Run(() => Serve(context));
        }
    }

    async Task Serve(HttpListenerContext context)
    {
        HttpListenerResponse response = context.Response;
        try
        {
            string[] parts = context.Request.Url!.AbsolutePath.Trim('/').Split('/');
            string behaviour = parts[0], name = parts[^1];
            var source = behaviour == "alt" ? alternative : files;
            if (behaviour == "notfound" || !source.TryGetValue(name, out byte[]? body))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            CancellationToken stop = stopping.Token;
            switch (behaviour)
            {
                case "good" or "alt":
                    response.ContentLength64 = body.Length;
                    await response.OutputStream.WriteAsync(body, stop);
                    response.Close();
                    break;
                case "half-chunked":
                    response.SendChunked = true;
                    await response.OutputStream.WriteAsync(body.AsMemory(0, body.Length / 2), stop);
                    response.Close();
                    break;
                case "broken":
                    response.ContentLength64 = body.Length;
                    await response.OutputStream.WriteAsync(body.AsMemory(0, body.Length / 2), stop);
                    await response.OutputStream.FlushAsync(stop);
                    response.Abort();
                    break;
                case "stall":
                    await Task.Delay(Timeout.Infinite, stop);
                    break;
                case "stall-body":
                    response.ContentLength64 = body.Length;
                    await response.OutputStream.WriteAsync(body.AsMemory(0, Math.Min(1000, body.Length)), stop);
                    await response.OutputStream.FlushAsync(stop);
                    await Task.Delay(Timeout.Infinite, stop);
                    break;
                case "huge":
                    response.ContentLength64 = 4L << 30;
                    await response.OutputStream.WriteAsync(body, stop);
                    await Task.Delay(Timeout.Infinite, stop);
                    break;
                default:
                    response.StatusCode = 500;
                    response.Close();
                    break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HttpListenerException or IOException or ObjectDisposedException)
        {
            // The test ended or the client hung up: drop the connection.
            try { response.Abort(); } catch (ObjectDisposedException) { }
        }
    }
}
