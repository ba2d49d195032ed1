using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Models;

[Collection("Torch")]
public sealed class ChannelsLastTests
{
    [Fact]
    public void Strides_AreNhwc()
    {
        Assert.Equal([8 * 5 * 3, 1, 5 * 3, 3], ChannelsLast.Strides([2, 3, 8, 5]));
        Assert.Throws<ArgumentException>(() => ChannelsLast.Strides([2, 3, 8]));
    }

    [Fact]
    public void Of_OneChannelSlice_IsAViewWithTheSliceOffset()
    {
        using Tensor all = arange(4 * 1 * 6 * 6, ScalarType.Float32).reshape(4, 1, 6, 6);
        using Tensor slice = all.narrow(0, 2, 2);                         // storage offset 72
        using Tensor view = ChannelsLast.Of(slice);
        Assert.True(ChannelsLast.Is(view));
        Assert.Equal(slice.storage_offset(), view.storage_offset());
        Assert.True(view.equal(slice).all().item<bool>());
        using (no_grad()) view.add_(1000);                                // same memory
        Assert.Equal(1000f + 72f, all[2, 0, 0, 0].item<float>());
    }

    [Fact]
    public void Of_ManyChannels_CopiesIntoNhwcWithTheSameValues()
    {
        manual_seed(3);
        using Tensor x = randn(3, 5, 4, 6);
        using Tensor y = ChannelsLast.Of(x);
        Assert.False(ChannelsLast.Is(x));
        Assert.True(ChannelsLast.Is(y));
        Assert.True(y.equal(x).all().item<bool>());
        Assert.Equal(x.shape, y.shape);
        using Tensor again = ChannelsLast.Of(y);                          // already NHWC: a view, no copy
        Assert.True(ChannelsLast.Is(again));
    }

    [Fact]
    public void Libtorch_KeepsNhwcThroughTheTrunkLayers()
    {
        // The speed-up rests on libtorch choosing its layout from the input's strides; if an upgrade stops doing so,
        // this fails instead of the training silently slowing down again.
        using var model = new Classifier();
        manual_seed(4);
        using Tensor x = rand(8, 1, 32, 32);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor h = ChannelsLast.Of(x);
        foreach (int i in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            h = ((nn.Module<Tensor, Tensor>)model.Layers[i]).forward(h);
            Assert.True(ChannelsLast.Is(h), $"layer {i} output strides [{string.Join(", ", h.stride())}] are not NHWC");
        }
    }

    [Fact]
    public void ForwardThrough_ReturnsNchwMemory()
    {
        using var model = new Classifier();
        using Tensor x = rand(2, 1, 32, 32);
        using var noGrad = no_grad();
        using Tensor h = model.ForwardThrough(x, 5);
        Assert.True(h.is_contiguous());
        Assert.Equal([2L, 16, 8, 8], h.shape);
    }
}
