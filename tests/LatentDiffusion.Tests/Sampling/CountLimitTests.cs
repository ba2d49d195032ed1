using LatentDiffusion.Sampling;

namespace LatentDiffusion.Tests.Sampling;

public sealed class CountLimitTests
{
    [Fact]
    public void MaxCount_IsHalfTheAvailableMemoryOverTheCostOfOne()
    {
        Assert.Equal(1024, CountLimit.MaxCount(2 * 1024 * CountLimit.BytesPerDigit));
        Assert.Equal(1, CountLimit.MaxCount(0));                                            // one digit is always allowed to try
        Assert.Equal(int.MaxValue, CountLimit.MaxCount(long.MaxValue, 1));
    }

    [Fact]
    public void Problem_NamesTheOptionTheCountAndTheLargestThatFits()
    {
        const long available = 1L << 30;   // 1 GiB: 26,214 digits of 20 KiB in half of it
        Assert.Null(CountLimit.Problem(26_214, "-n", available));
        Assert.Equal("-n 26215 is more than this machine can hold: at most 26,214 (20 KiB each in half of the 1,024 MiB available); split the work into several runs",
            CountLimit.Problem(26_215, "-n", available));
        Assert.Equal("--count must be positive (got -3)", CountLimit.Problem(-3, "--count", available));
    }

    [Fact]
    public void AvailableBytes_IsPositiveAndAtMostWhatTheGcMayUse()
    {
        long available = CountLimit.AvailableBytes();
        Assert.InRange(available, 1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }
}
