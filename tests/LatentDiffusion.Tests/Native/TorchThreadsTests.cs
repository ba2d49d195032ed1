using LatentDiffusion.Native;
using TorchSharp;

namespace LatentDiffusion.Tests.Native;

[Collection("Torch")]
public sealed class TorchThreadsTests
{
    [Fact]
    public void Use_SetsTheCallingThreadsCount_AndRestoresIt()
    {
        int before = torch.get_num_threads();
        using (TorchThreads.Use(1)) Assert.Equal(1, torch.get_num_threads());
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public void Use_OnAnotherThread_LeavesThisThreadsCount()
    {
        int here = torch.get_num_threads();
        int there = 0, after = 0;
        var thread = new Thread(() =>
        {
            using (TorchThreads.Use(1))
            {
                there = torch.get_num_threads();
                Thread.Sleep(50);
            }
            after = torch.get_num_threads();
        });
        thread.Start();
        Thread.Sleep(10);
        Assert.Equal(here, torch.get_num_threads());   // while the other thread runs on one
        thread.Join();
        Assert.Equal(1, there);
        Assert.Equal(here, after);                      // restored to what it started with (the process's count)
        Assert.Equal(here, torch.get_num_threads());
    }

    [Fact]
    public void Use_DisposedTwice_RestoresOnce()
    {
        int before = torch.get_num_threads();
        IDisposable use = TorchThreads.Use(1);
        use.Dispose();
        using (TorchThreads.Use(1))
        {
            use.Dispose();                              // a second dispose of the first must not undo the second
            Assert.Equal(1, torch.get_num_threads());
        }
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public void Use_WithNoThreads_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => TorchThreads.Use(0));
}
