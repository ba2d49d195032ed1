using System.IO.Compression;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using LatentDiffusion.IO;

namespace LatentDiffusion.Data;

/// <summary>
/// Fetches the dataset files missing from a directory, trying each mirror of <see cref="DownloadOptions.Mirrors"/>
/// in order. A body is kept only once verified: its MD5 is the published <c>.gz</c>'s, or, for a recompressed copy,
/// its decompressed content has the known SHA-256. It is then written with <see cref="AtomicFile"/>, so the directory
/// never holds a partial or unverified file. A 404, a stalled or broken connection, a truncated body or a checksum
/// mismatch moves on to the next mirror; a mirror that cannot be reached or stalls is not asked again, so with no
/// network the whole call fails within about one <see cref="DownloadOptions.ConnectTimeout"/> per mirror.
/// </summary>
public static class MnistDownloader
{
    /// <summary>Blocking form of <see cref="DownloadMissingAsync"/>, for the CLI.</summary>
    public static IReadOnlyList<string> DownloadMissing(string directory, DownloadOptions? options = null, Action<string>? notice = null) =>
        DownloadMissingAsync(directory, options, notice).GetAwaiter().GetResult();

    /// <summary>
    /// Downloads every file of <see cref="DownloadOptions.Dataset"/> that is missing (neither raw nor <c>.gz</c>)
    /// from <paramref name="directory"/>, as <c>name.gz</c>. Returns the paths written. <paramref name="notice"/>
    /// hears progress and each failed attempt, one line each.
    /// </summary>
    /// <exception cref="DataFormatException">
    /// Some file could be fetched from no mirror. The path is <paramref name="directory"/>; the message is one line
    /// naming the missing files, why each mirror failed, the dataset's files and the <c>--data</c> option.
    /// </exception>
    public static async Task<IReadOnlyList<string>> DownloadMissingAsync(string directory, DownloadOptions? options = null,
        Action<string>? notice = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new DownloadOptions();
        if (options.Mirrors.Count == 0) throw new ArgumentException("no mirrors to download from", nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ConnectTimeout, TimeSpan.Zero);

        var missing = options.Dataset.Files.Where(f => MnistDataset.Locate(directory, f.Name) is null).ToList();
        var written = new List<string>();
        if (missing.Count == 0) return written;

        using HttpClient client = CreateClient(options);
        var unreachable = new HashSet<Uri>();
        foreach (KnownFile file in missing)
        {
            var failures = new List<string>();
            byte[]? body = null;
            foreach (Uri mirror in options.Mirrors.Where(m => !unreachable.Contains(m)))
            {
                var url = new Uri(AsDirectory(mirror), file.Name + ".gz");
                notice?.Invoke($"downloading {url}");
                Attempt attempt = await FetchAsync(client, url, file, options, cancellationToken).ConfigureAwait(false);
                if (attempt.Body is not null)
                {
                    if (attempt.Recompressed)
                        notice?.Invoke($"{url}: not the published .gz (MD5 differs) but its content has {options.Dataset.Name}'s SHA-256; keeping it");
                    body = attempt.Body;
                    break;
                }
                failures.Add($"{url}: {attempt.Failure}");
                notice?.Invoke($"{url}: {attempt.Failure}");
                if (attempt.MirrorDown) unreachable.Add(mirror);
            }
            if (body is null) throw Failure(directory, options, missing.Skip(written.Count), failures);
            string target = Path.Combine(directory, file.Name + ".gz");
            AtomicFile.WriteAllBytes(target, body);
            written.Add(target);
        }
        return written;
    }

    /// <summary>One try of one URL: the verified body, or why not and whether the mirror is worth asking again.</summary>
    readonly record struct Attempt(byte[]? Body, bool Recompressed, string Failure, bool MirrorDown);

    static Attempt Failed(string why, bool mirrorDown = false) => new(null, false, why, mirrorDown);

    static async Task<Attempt> FetchAsync(HttpClient client, Uri url, KnownFile file, DownloadOptions options, CancellationToken cancellationToken)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(options.Timeout);
        long received = 0;
        try
        {
            using HttpResponseMessage response = await client
                .GetAsync(url, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return Failed($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            if (response.Content.Headers.ContentLength > options.MaxFileBytes)
                return Failed($"server announces {response.Content.Headers.ContentLength} bytes, more than the {options.MaxFileBytes}-byte limit");

            using Stream stream = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
            using var body = new MemoryStream();
            byte[] chunk = new byte[1 << 16];
            while (true)
            {
                // Restarted per chunk: a slow server that keeps sending is fine, a stalled one is not.
                stall.CancelAfter(options.Timeout);
                int n = await stream.ReadAsync(chunk, stall.Token).ConfigureAwait(false);
                if (n == 0) break;
                received += n;
                if (received > options.MaxFileBytes)
                    return Failed($"body exceeds the {options.MaxFileBytes}-byte limit");
                body.Write(chunk, 0, n);
            }
            byte[] bytes = body.ToArray();
            string? mismatch = Verify(bytes, file, out bool recompressed);
            return mismatch is null ? new Attempt(bytes, recompressed, "", false) : Failed(mismatch);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Either our stall timer fired or SocketsHttpHandler gave up connecting (ConnectTimeout).
            string what = stall.IsCancellationRequested
                ? $"timed out: no data for {options.Timeout.TotalSeconds:0.#} s (after {received} bytes)"
                : $"could not connect within {options.ConnectTimeout.TotalSeconds:0.#} s";
            return Failed(what, mirrorDown: true);
        }
        catch (HttpRequestException e)
        {
            bool down = e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
                or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;
            return Failed($"request failed ({OneLine(e.Message)})", mirrorDown: down);
        }
        catch (IOException e)
        {
            return Failed($"connection broke after {received} bytes ({OneLine(e.Message)})");
        }
    }

    /// <summary>
    /// Null when <paramref name="gz"/> is the published <c>.gz</c> (MD5) or a recompressed copy with the right content
    /// (SHA-256 of the decompressed bytes); otherwise why not. A truncated body fails both.
    /// </summary>
    internal static string? Verify(byte[] gz, KnownFile file, out bool recompressed)
    {
        recompressed = false;
        string md5 = Convert.ToHexStringLower(MD5.HashData(gz));
        if (file.GzMd5 is not null && md5 == file.GzMd5) return null;
        string sha256;
        long length;
        try
        {
            (sha256, length) = ContentSha256(gz, limit: file.ContentLength);
        }
        catch (InvalidDataException e)
        {
            return $"not a valid gzip file ({OneLine(e.Message)}; {gz.Length} bytes, MD5 {md5})";
        }
        if (length == file.ContentLength && sha256 == file.ContentSha256)
        {
            recompressed = file.GzMd5 is not null;
            return null;
        }
        return $"checksum mismatch ({gz.Length} bytes with MD5 {md5}, {length} content bytes with SHA-256 {sha256}; " +
               $"expected MD5 {file.GzMd5 ?? "(any)"}, {file.ContentLength} content bytes with SHA-256 {file.ContentSha256})";
    }

    /// <summary>SHA-256 and length of the decompressed content, reading at most one byte past <paramref name="limit"/>.</summary>
    static (string Sha256, long Length) ContentSha256(byte[] gz, long limit)
    {
        using var gzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] chunk = new byte[1 << 16];
        long length = 0;
        int n;
        while (length <= limit && (n = gzip.Read(chunk)) > 0)
        {
            sha.AppendData(chunk, 0, n);
            length += n;
        }
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), length);
    }

    static HttpClient CreateClient(DownloadOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,   // the .gz bytes are what we verify
        };
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("LatentDiffusion/1.0");
        return client;
    }

    static DataFormatException Failure(string directory, DownloadOptions options, IEnumerable<KnownFile> stillMissing, List<string> failures)
    {
        string all = string.Join(", ", options.Dataset.Files.Select(f => f.Name + ".gz"));
        string missing = string.Join(", ", stillMissing.Select(f => f.Name + ".gz"));
        string tried = failures.Count > 0 ? string.Join("; ", failures) : "every mirror was already unreachable";
        return new DataFormatException(directory,
            $"cannot download {missing} ({tried}). Put the {options.Dataset.Files.Count} {options.Dataset.Name} files " +
            $"{all} (raw or .gz) in this directory, or point --data at a directory that holds them");
    }

    /// <summary>"http://host/mnist" → "http://host/mnist/", so that the file name is appended rather than replacing "mnist".</summary>
    static Uri AsDirectory(Uri mirror) => mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/");

    static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
