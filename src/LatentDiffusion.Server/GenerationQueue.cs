namespace LatentDiffusion.Server;

/// <summary>
/// Where generations wait their turn: at most <see cref="Workers"/> run at once, at most <see cref="MaxWaiting"/>
/// wait behind them in arrival order, and anything beyond is turned away (<see cref="TryEnter"/> returns null, the
/// API's 429). A ticket knows its place in line; disposing it (the generation finished, failed, or its client left)
/// frees its place or its worker for the next in line.
/// </summary>
public sealed class GenerationQueue
{
    readonly object gate = new();
    readonly LinkedList<Ticket> waiting = new();
    int running;

    public GenerationQueue(int workers, int maxWaiting)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWaiting);
        Workers = workers;
        MaxWaiting = maxWaiting;
    }

    public int Workers { get; }

    public int MaxWaiting { get; }

    /// <summary>Generations running now.</summary>
    public int Running { get { lock (gate) return running; } }

    /// <summary>Generations waiting for a worker.</summary>
    public int Waiting { get { lock (gate) return waiting.Count; } }

    /// <summary>A place: running at once when a worker is free, else in line; null when the line is full.</summary>
    public Ticket? TryEnter()
    {
        lock (gate)
        {
            var ticket = new Ticket(this);
            if (running < Workers)
            {
                running++;
                ticket.Start();
            }
            else if (waiting.Count < MaxWaiting)
            {
                ticket.Node = waiting.AddLast(ticket);
            }
            else
            {
                return null;
            }
            return ticket;
        }
    }

    int PositionOf(Ticket ticket)
    {
        lock (gate)
        {
            if (ticket.Node is null) return 0;
            int position = 1;
            for (var node = waiting.First; node is not null && node != ticket.Node; node = node.Next) position++;
            return position;
        }
    }

    void Leave(Ticket ticket)
    {
        lock (gate)
        {
            if (ticket.Node is { } node)
            {
                waiting.Remove(node);
                ticket.Node = null;
                return;
            }
            if (!ticket.Started.IsCompleted) return;
            running--;
            while (running < Workers && waiting.First is { } next)
            {
                waiting.RemoveFirst();
                next.Value.Node = null;
                running++;
                next.Value.Start();
            }
        }
    }

    /// <summary>One generation's place in the queue.</summary>
    public sealed class Ticket : IDisposable
    {
        readonly GenerationQueue queue;
        readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        int disposed;

        internal Ticket(GenerationQueue queue) => this.queue = queue;

        internal LinkedListNode<Ticket>? Node { get; set; }

        /// <summary>Completes when this generation may run.</summary>
        public Task Started => started.Task;

        /// <summary>0 when running (or done), else the place in line: 1 is next.</summary>
        public int Position => queue.PositionOf(this);

        internal void Start() => started.TrySetResult();

        /// <summary>Gives the place or the worker back (once; later calls do nothing).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) queue.Leave(this);
        }
    }
}
