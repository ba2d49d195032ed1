using LatentDiffusion.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Models;

[Collection("Torch")]
public sealed class FusedBatchNormLeakyReluTests
{
    const double Slope = ConvBlock.Slope;

    static BatchNorm2d Norm(long channels, int seed, double? momentum = 0.1)
    {
        BatchNorm2d norm = nn.BatchNorm2d(channels);
        norm.momentum = momentum;                                   // null: the cumulative average, as PyTorch
        using var g = new Generator((ulong)seed);
        using (no_grad())
        {
            norm.weight!.copy_(rand([channels], generator: g).add(0.5));
            norm.bias!.copy_(rand([channels], generator: g).sub(0.5));
        }
        norm.train();
        return norm;
    }

    /// <summary>y, dx, dweight, dbias of leaky_relu(batch_norm(x)) for upstream gradient g, computed by <paramref name="forward"/>.</summary>
    static (double[] Y, double[] Dx, double[] Dw, double[] Db) Pass(Tensor x0, Tensor upstream, BatchNorm2d norm, Func<Tensor, BatchNorm2d, Tensor> forward)
    {
        using var scope = NewDisposeScope();
        Tensor x = x0.detach().clone();
        if (ChannelsLast.Is(x0)) x = ChannelsLast.Of(x);
        x.requires_grad = true;
        norm.zero_grad();
        Tensor y = forward(x, norm);
        y.backward([upstream.to_type(y.dtype)]);
        static double[] D(Tensor t) => t.contiguous().to_type(ScalarType.Float64).flatten().data<double>().ToArray();
        return (D(y), D(x.grad!), D(norm.weight!.grad!), D(norm.bias!.grad!));
    }

    static Tensor Modules(Tensor x, BatchNorm2d norm) => nn.functional.leaky_relu(norm.forward(x), Slope);

    static double Relative(double[] want, double[] got) => want.Zip(got, (a, b) => Math.Abs(a - b)).Max() / want.Max(Math.Abs);

    [Theory]
    [InlineData(8, 16)]
    [InlineData(16, 8)]
    [InlineData(24, 5)]
    public void Fused_MatchesFloat64_CloserThanLibtorch(long channels, long size)
    {
        using var g = new Generator(7);
        using Tensor x64 = randn([32, channels, size, size], generator: g, dtype: ScalarType.Float64).mul(2).add(0.7);
        using Tensor upstream = randn([32, channels, size, size], generator: g, dtype: ScalarType.Float64);
        using BatchNorm2d exactNorm = Norm(channels, 1);
        exactNorm.to(ScalarType.Float64);
        using BatchNorm2d nativeNorm = Norm(channels, 1);
        using BatchNorm2d fusedNorm = Norm(channels, 1);

        var exact = Pass(x64, upstream, exactNorm, Modules);
        var native = Pass(x64.to_type(ScalarType.Float32), upstream, nativeNorm, Modules);
        using Tensor nhwc = ChannelsLast.Of(x64.to_type(ScalarType.Float32));
        Assert.True(FusedBatchNormLeakyRelu.Applies(nhwc, fusedNorm));
        var fused = Pass(nhwc, upstream, fusedNorm, (x, n) =>
        {
            Tensor y = FusedBatchNormLeakyRelu.Apply(x, n, Slope);
            Assert.True(ChannelsLast.Is(y), "the fused output keeps channels-last strides");
            return y;
        });

        foreach (var (name, want, lib, ours) in new[]
                 {
                     ("output", exact.Y, native.Y, fused.Y), ("input gradient", exact.Dx, native.Dx, fused.Dx),
                     ("weight gradient", exact.Dw, native.Dw, fused.Dw), ("bias gradient", exact.Db, native.Db, fused.Db),
                 })
        {
            double errFused = Relative(want, ours), errNative = Relative(want, lib);
            Assert.True(errFused < 1e-6, $"{name}: fused {errFused:E2} from float64");
            Assert.True(errFused <= 2 * errNative + 1e-7, $"{name}: fused {errFused:E2} against libtorch NCHW {errNative:E2}");
        }
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(null)]
    public void RunningStatistics_AndBatchCount_AsTheModule(double? momentum)
    {
        using BatchNorm2d native = Norm(8, 2, momentum);
        using BatchNorm2d fused = Norm(8, 2, momentum);
        using var g = new Generator(11);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            Tensor x = randn([16, 8, 6, 6], generator: g).mul(1 + step).add(100 * step);   // a large mean: the shifted sums must cope
            using (no_grad())
            {
                native.forward(x);
                FusedBatchNormLeakyRelu.Apply(ChannelsLast.Of(x), fused, Slope);
            }
        }
        Assert.Equal(3L, fused.num_batches_tracked!.item<long>());
        Assert.Equal(native.num_batches_tracked!.item<long>(), fused.num_batches_tracked!.item<long>());
        TensorAssert.CloseRelative(native.running_mean!.data<float>().ToArray(), fused.running_mean!, 1e-6, "running mean");
        TensorAssert.CloseRelative(native.running_var!.data<float>().ToArray(), fused.running_var!, 1e-5, "running variance");
    }

    [Fact]
    public void Applies_OnlyToTrainingChannelsLastFloat32_WithAMultipleOf8Channels()
    {
        using BatchNorm2d norm8 = Norm(8, 3);
        using BatchNorm2d norm4 = Norm(4, 3);
        using Tensor nchw = randn(2, 8, 4, 4);
        using Tensor nhwc = ChannelsLast.Of(nchw);
        using Tensor nhwc4 = ChannelsLast.Of(randn(2, 4, 4, 4));
        using Tensor nhwc64 = ChannelsLast.Of(randn(2, 8, 4, 4, dtype: ScalarType.Float64));
        Assert.True(FusedBatchNormLeakyRelu.Applies(nhwc, norm8));
        Assert.False(FusedBatchNormLeakyRelu.Applies(nchw, norm8));
        Assert.False(FusedBatchNormLeakyRelu.Applies(nhwc4, norm4));
        Assert.False(FusedBatchNormLeakyRelu.Applies(nhwc64, norm8));
        norm8.eval();
        Assert.False(FusedBatchNormLeakyRelu.Applies(nhwc, norm8));
        Assert.Throws<ArgumentException>(() => FusedBatchNormLeakyRelu.Apply(nhwc, norm8, Slope));
    }

    [Fact]
    public void ConvBlock_ChannelsLastTraining_MatchesNchw()
    {
        // The block takes the fused path for channels-last input in training mode, libtorch's modules otherwise:
        // same outputs and parameter gradients to float32 rounding.
        using var nchwBlock = new ConvBlock(3, 8);
        using var nhwcBlock = new ConvBlock(3, 8);
        nhwcBlock.load_state_dict(nchwBlock.state_dict());
        nchwBlock.train();
        nhwcBlock.train();
        using var g = new Generator(5);
        using Tensor x = randn([16, 3, 12, 12], generator: g);
        using Tensor upstream = randn([16, 8, 12, 12], generator: g);
        using var scope = NewDisposeScope();
        Tensor a = nchwBlock.forward(x);
        Tensor b = nhwcBlock.forward(ChannelsLast.Of(x));
        Assert.True(ChannelsLast.Is(b));
        TensorAssert.CloseRelative(a.contiguous().data<float>().ToArray(), b.contiguous(), 1e-5, "block output");
        a.backward([upstream]);
        b.backward([upstream]);
        foreach (var ((name, p), (_, q)) in nchwBlock.named_parameters().Zip(nhwcBlock.named_parameters()))
        {
            if (name == "_conv.bias") continue;   // exactly 0 in exact arithmetic (the norm removes it): rounding noise on both sides
            TensorAssert.CloseRelative(p.grad!.contiguous().data<float>().ToArray(), q.grad!.contiguous(), 1e-4, $"gradient of {name}");
        }
        TensorAssert.CloseRelative(nchwBlock.state_dict()["_norm.running_var"].data<float>().ToArray(), nhwcBlock.state_dict()["_norm.running_var"], 1e-5, "running variance");
        Assert.Equal(1L, nhwcBlock.state_dict()["_norm.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Passes_AreTheSameBits_OnOneThreadAndOnTheTeam()
    {
        // Each pass splits its rows in whole blocks over libtorch's OpenMP team and adds the block sums in block order
        // afterwards: one part or many must give identical values, statistics and gradients. 131 rows of 64 per block
        // leave a ragged last block; 24 channels exercise every vector of a row.
        using var g = new Generator(11);
        using Tensor x = randn([4, 24, 33, 35], generator: g).mul(3).add(1.5);
        using Tensor upstream = randn([4, 24, 33, 35], generator: g);
        var results = new List<(double[] Y, double[] Dx, double[] Dw, double[] Db, float[] Mean, float[] Var)>();
        foreach (int parts in new[] { 1, 0, 3 })
        {
            BatchNormLeakyReluKernel.MaxParts = parts;
            try
            {
                using BatchNorm2d norm = Norm(24, 12);
                var (y, dx, dw, db) = Pass(ChannelsLast.Of(x), upstream, norm, (t, m) => FusedBatchNormLeakyRelu.Apply(t, m, Slope));
                results.Add((y, dx, dw, db, norm.running_mean!.data<float>().ToArray(), norm.running_var!.data<float>().ToArray()));
            }
            finally
            {
                BatchNormLeakyReluKernel.MaxParts = 0;
            }
        }
        foreach (var other in results.Skip(1))
        {
            Assert.Equal(results[0].Y, other.Y);
            Assert.Equal(results[0].Dx, other.Dx);
            Assert.Equal(results[0].Dw, other.Dw);
            Assert.Equal(results[0].Db, other.Db);
            Assert.Equal(results[0].Mean, other.Mean);
            Assert.Equal(results[0].Var, other.Var);
        }
    }
}
