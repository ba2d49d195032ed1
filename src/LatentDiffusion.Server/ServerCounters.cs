namespace LatentDiffusion.Server;

/// <summary>What happened to the generation requests since the server started (GET /api/status).</summary>
public sealed class ServerCounters
{
    long completed, cancelled, failed, rejected, invalid;

    /// <summary>Answered with digits.</summary>
    public long Completed => Interlocked.Read(ref completed);

    /// <summary>Their client left (or the server stopped) before they finished.</summary>
    public long Cancelled => Interlocked.Read(ref cancelled);

    /// <summary>Failed inside the server (500).</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Turned away because the queue was full (429).</summary>
    public long Rejected => Interlocked.Read(ref rejected);

    /// <summary>Bad input: unusable (400), too large (413) or not sent as JSON (415).</summary>
    public long Invalid => Interlocked.Read(ref invalid);

    public void Complete() => Interlocked.Increment(ref completed);

    public void Cancel() => Interlocked.Increment(ref cancelled);

    public void Fail() => Interlocked.Increment(ref failed);

    public void Reject() => Interlocked.Increment(ref rejected);

    public void Refuse() => Interlocked.Increment(ref invalid);
}
