using System.Collections.Concurrent;
using LatentDiffusion.Native;
using TorchSharp;

namespace LatentDiffusion.Tests.Native;

[Collection("Torch")]
public sealed class OpenMpTeamTests
{
    [Fact]
    public void Run_CallsEveryPartOnce_OnTheTeamsThreads()
    {
        var calls = new ConcurrentDictionary<int, int>();
        var threads = new ConcurrentDictionary<int, byte>();
        OpenMpTeam.Run(7, p =>
        {
            calls.AddOrUpdate(p, 1, (_, n) => n + 1);
            threads.TryAdd(Environment.CurrentManagedThreadId, 0);
            Thread.Sleep(20);   // long enough that a second thread takes parts
        });
        Assert.Equal(Enumerable.Range(0, 7), calls.Keys.Order());
        Assert.All(calls.Values, n => Assert.Equal(1, n));
        if (OperatingSystem.IsLinux()) Assert.True(OpenMpTeam.Available, "libtorch's libgomp was not found in /proc/self/maps");
        int expected = Math.Min(7, OpenMpTeam.Threads);
        Assert.Equal(expected, threads.Count);
    }

    [Fact]
    public void Run_RethrowsAPartsException_AfterTheOtherParts()
    {
        int ran = 0;
        var e = Assert.Throws<InvalidOperationException>(() => OpenMpTeam.Run(4, p =>
        {
            Interlocked.Increment(ref ran);
            if (p == 1) throw new InvalidOperationException("part 1 failed");
        }));
        Assert.Equal("part 1 failed", e.Message);
        Assert.Equal(4, ran);
    }

    [Fact]
    public void Run_WithNoOrOnePart_RunsOnTheCallingThread()
    {
        int caller = Environment.CurrentManagedThreadId, seen = -1, count = 0;
        OpenMpTeam.Run(0, _ => count++);
        OpenMpTeam.Run(1, _ => { count++; seen = Environment.CurrentManagedThreadId; });
        Assert.Equal(1, count);
        Assert.Equal(caller, seen);
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenMpTeam.Run(-1, _ => { }));
    }

    [Fact]
    public void Threads_IsLibtorchsIntraOpThreadCount()
    {
        if (OpenMpTeam.Available) Assert.Equal(Math.Max(1, torch.get_num_threads()), OpenMpTeam.Threads);
        else Assert.Equal(1, OpenMpTeam.Threads);
    }
}
