using LatentDiffusion.Diffusion;
using LatentDiffusion.Sampling;
using LatentDiffusion.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Sampling;

/// <summary>
/// The sampler path's hooks for <c>ldm serve</c>: frames handed over while sampling runs, and cancellation checked
/// between steps that stops there and frees what it made.
/// </summary>
[Collection("Torch")]
public sealed class LatentDiffusionSamplerTests
{
    static readonly DiffusionConfig Epsilon = new() { UNet = new UNetConfig { LatentChannels = 4, Widths = [8, 16] }, Steps = 10 };
    static readonly DiffusionConfig Alpha = Epsilon with { Objective = DiffusionObjective.AlphaDeblending };

    static (UNet, Vae) Models(DiffusionConfig config)
    {
        manual_seed(14);
        return (new UNet(config.UNet), new Vae());
    }

    /// <summary>
    /// The chunked decode is the one-call decode bit for bit, for the shipped latent VAE in its channels-last layout and
    /// in NCHW, on 1 and 2 threads: a batch of 1000 as the sampler decodes it, and one not a multiple of the chunk.
    /// </summary>
    [Theory]
    [InlineData(1000, true)]
    [InlineData(301, true)]
    [InlineData(301, false)]
    public void Decode_InChunks_IsTheWholeBatchsDecodeBitForBit(int count, bool channelsLast)
    {
        string path = LatentDiffusion.IO.RepositoryPaths.Find("models/latent-vae.safetensors") ?? throw new FileNotFoundException("models/latent-vae.safetensors");
        using Vae vae = LatentDiffusion.IO.ModelFile.LoadVae(path);
        vae.ChannelsLastLayout = channelsLast;
        vae.eval();
        using var noGrad = no_grad();
        var config = new DiffusionConfig { UNet = new UNetConfig { LatentChannels = 8 }, LatentScale = 1.5 };
        using var generator = new Generator(3);
        using Tensor scaled = randn([count, 8, 4, 4], generator: generator);
        int threads = get_num_threads();
        try
        {
            foreach (int t in new[] { 1, 2 })
            {
                set_num_threads(t);
                using Tensor chunked = LatentDiffusionSampler.Decode(vae, scaled, config);
                using Tensor whole = vae.Decode(scaled.div(1.5)).clamp_(0.0, 1.0);
                Assert.True(LatentDiffusionSampler.DecodeChunk < count);
                Assert.True(chunked.eq(whole).all().item<bool>(), $"{t} thread(s): max |difference| {chunked.sub(whole).abs().max().item<float>()}");
            }
        }
        finally { set_num_threads(threads); }
    }

    /// <summary>
    /// A deterministic sampler's digits do not depend on <c>--batch-size</c>: the shipped student's 2,000 digits in one batch
    /// are its two batches of 1,000 bit for bit (the noise is one stream; every layer works per image in eval mode).
    /// </summary>
    [Fact]
    public void Generate_BatchOf2000_IsTwoBatchesOf1000BitForBit()
    {
        (UNet unet, DiffusionConfig config) = LatentDiffusion.IO.ModelFile.LoadDiffusion(LatentDiffusion.IO.RepositoryPaths.Find("models/student.safetensors")!);
        using var _ = unet;
        using Vae vae = LatentDiffusion.IO.ModelFile.LoadVae(LatentDiffusion.IO.RepositoryPaths.Find("models/latent-vae.safetensors")!);
        using LatentSamples small = LatentDiffusionSampler.Generate(unet, config, vae, 2000, 5, new SamplingOptions { BatchSize = 1000, Steps = 2 });
        using LatentSamples large = LatentDiffusionSampler.Generate(unet, config, vae, 2000, 5, new SamplingOptions { BatchSize = 2000, Steps = 2 });
        Assert.True(small.Latents.eq(large.Latents).all().item<bool>(), $"latents differ by {small.Latents.sub(large.Latents).abs().max().item<float>()}");
        Assert.True(small.Images.eq(large.Images).all().item<bool>(), $"images differ by {small.Images.sub(large.Images).abs().max().item<float>()}");
    }

    [Fact]
    public void Generate_WithOnFrame_HandsEachKeptFrameOverWhileSampling()
    {
        (UNet unet, Vae vae) = Models(Epsilon);
        using var _ = unet;
        using var __ = vae;
        long progressed = 0;
        var seen = new List<(int Step, long ProgressAtFrame, Tensor Copy)>();
        var options = new SamplingOptions
        {
            Sampler = Samplers.Ddim, Steps = 6, TrajectoryEvery = 2, TrajectoryCount = 3,
            OnFrame = (step, images) => seen.Add((step, progressed, images.clone().DetachFromDisposeScope())),
        };
        using LatentSamples samples = LatentDiffusionSampler.Generate(unet, Epsilon, vae, 4, seed: 1, options, (done, _) => progressed = done);
        Assert.Equal([2, 4, 6], seen.Select(s => s.Step));
        Assert.Equal([2 * 4L, 4 * 4L, 6 * 4L], seen.Select(s => s.ProgressAtFrame));     // handed over at its step, not at the end
        Assert.Equal(samples.Trajectory.Select(t => t.Step), seen.Select(s => s.Step));
        for (int i = 0; i < seen.Count; i++)
        {
            Assert.Equal([3L, 1, 32, 32], seen[i].Copy.shape);
            Assert.True(seen[i].Copy.equal(samples.Trajectory[i].Images).all().item<bool>());
            seen[i].Copy.Dispose();
        }
        using LatentSamples plain = LatentDiffusionSampler.Generate(unet, Epsilon, vae, 4, seed: 1, new SamplingOptions { Sampler = Samplers.Ddim, Steps = 6 });
        Assert.True(plain.Images.equal(samples.Images).all().item<bool>(), "watching the frames must not change the digits");
    }

    [Theory]
    [InlineData("ddpm")]
    [InlineData("ddim")]
    [InlineData("iadb")]
    [InlineData("heun")]
    public void Generate_CancelledAfterStep3_StopsThereThrowsAndFreesItsTensors(string name)
    {
        ISampler sampler = Samplers.Find(name)!;
        DiffusionConfig config = sampler.Objective == DiffusionObjective.AlphaDeblending ? Alpha : Epsilon;
        (UNet unet, Vae vae) = Models(config);
        using var _ = unet;
        using var __ = vae;
        using var cancel = new CancellationTokenSource();
        var steps = new List<long>();
        var options = new SamplingOptions { Sampler = sampler, Steps = 10, TrajectoryEvery = 1, TrajectoryCount = 2, Cancellation = cancel.Token };
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Throws<OperationCanceledException>(() => LatentDiffusionSampler.Generate(unet, config, vae, 2, seed: 3, options, (done, _) =>
        {
            steps.Add(done / 2);
            if (done / 2 == 3) cancel.Cancel();
        }));
        Assert.Equal([1L, 2, 3], steps);                                                  // no step after the one that saw the cancel
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);           // x_t and the kept frames freed
    }

    [Fact]
    public void Generate_AlreadyCancelled_ThrowsBeforeTheFirstStep()
    {
        (UNet unet, Vae vae) = Models(Epsilon);
        using var _ = unet;
        using var __ = vae;
        int calls = 0;
        var options = new SamplingOptions { Sampler = Samplers.Ddim, Steps = 5, Cancellation = new CancellationToken(canceled: true) };
        Assert.Throws<OperationCanceledException>(() => LatentDiffusionSampler.Generate(unet, Epsilon, vae, 2, seed: 3, options, (_, _) => calls++));
        Assert.Equal(0, calls);
    }

    [Theory]
    [InlineData(float.NaN, "ddim")]
    [InlineData(float.PositiveInfinity, "ddim")]
    [InlineData(float.NaN, "iadb")]
    public void Generate_OfADamagedModel_RefusesNonFiniteSamples_WithAndWithoutFrames(float poison, string name)
    {
        ISampler sampler = Samplers.Find(name)!;
        DiffusionConfig config = sampler.Objective == DiffusionObjective.AlphaDeblending ? Alpha : Epsilon;
        (UNet unet, Vae vae) = Models(config);
        using var _ = unet;
        using var __ = vae;
        using (no_grad())
            foreach (var (_, p) in unet.named_parameters()) p.fill_(poison);   // what a damaged weights file holds
        foreach (int every in new[] { 0, 1 })
        {
            var options = new SamplingOptions { Sampler = sampler, Steps = 3, TrajectoryEvery = every, OnFrame = (_, _) => Assert.Fail("a non-finite frame was handed over") };
            var e = Assert.Throws<NonFiniteSamplesException>(() => LatentDiffusionSampler.Generate(unet, config, vae, 2, seed: 1, options));
            Assert.Contains("non-finite values (NaN or ∞)", e.Message);
            Assert.Contains(every == 0 ? "in the latents" : "at step 1", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
