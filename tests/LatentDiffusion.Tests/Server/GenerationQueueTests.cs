using LatentDiffusion.Server;

namespace LatentDiffusion.Tests.Server;

public sealed class GenerationQueueTests
{
    [Fact]
    public void TryEnter_OneWorkerTwoPlaces_RunsOneQueuesTwoRefusesTheFourth()
    {
        var queue = new GenerationQueue(workers: 1, maxWaiting: 2);
        using var first = queue.TryEnter()!;
        using var second = queue.TryEnter()!;
        using var third = queue.TryEnter()!;
        Assert.True(first.Started.IsCompleted);
        Assert.False(second.Started.IsCompleted);
        Assert.Equal((0, 1, 2), (first.Position, second.Position, third.Position));
        Assert.Null(queue.TryEnter());
        Assert.Equal((1, 2), (queue.Running, queue.Waiting));
    }

    [Fact]
    public void Dispose_OfTheRunningTicket_StartsTheNextInLine()
    {
        var queue = new GenerationQueue(workers: 1, maxWaiting: 2);
        var first = queue.TryEnter()!;
        using var second = queue.TryEnter()!;
        using var third = queue.TryEnter()!;
        first.Dispose();
        first.Dispose();                                                                    // twice: no double release
        Assert.True(second.Started.IsCompleted);
        Assert.Equal((0, 1), (second.Position, third.Position));
        Assert.Equal((1, 1), (queue.Running, queue.Waiting));
    }

    [Fact]
    public void Dispose_OfAWaitingTicket_LeavesTheLineAndMovesTheOthersUp()
    {
        var queue = new GenerationQueue(workers: 1, maxWaiting: 3);
        using var running = queue.TryEnter()!;
        var leaving = queue.TryEnter()!;
        using var staying = queue.TryEnter()!;
        leaving.Dispose();                                                                  // a client that closed its tab while waiting
        Assert.False(leaving.Started.IsCompleted);
        Assert.Equal(1, staying.Position);
        Assert.Equal((1, 1), (queue.Running, queue.Waiting));
        running.Dispose();
        Assert.True(staying.Started.IsCompleted);
        Assert.Equal((1, 0), (queue.Running, queue.Waiting));
    }

    [Fact]
    public void TryEnter_TwoWorkers_RunTwoAtOnce()
    {
        var queue = new GenerationQueue(workers: 2, maxWaiting: 0);
        using var a = queue.TryEnter()!;
        using var b = queue.TryEnter()!;
        Assert.True(a.Started.IsCompleted && b.Started.IsCompleted);
        Assert.Null(queue.TryEnter());
    }
}
