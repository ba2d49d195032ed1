using LatentDiffusion.Models;
using static TorchSharp.torch;

namespace LatentDiffusion.Tests.Models;

[Collection("Torch")]
public sealed class ConvDecoderTests
{
    /// <summary>
    /// Without autograd the decoder frees each activation as soon as the next exists: the same ops, so the shipped
    /// latent VAE's decode under no_grad is its decode with autograd on bit for bit, in both layouts, and the caller's
    /// latents stay usable.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_WithoutGrad_IsTheGradPathBitForBit_AndLeavesTheInput(bool channelsLast)
    {
        string path = LatentDiffusion.IO.RepositoryPaths.Find("models/latent-vae.safetensors") ?? throw new FileNotFoundException("models/latent-vae.safetensors");
        using Vae vae = LatentDiffusion.IO.ModelFile.LoadVae(path);
        vae.ChannelsLastLayout = channelsLast;
        vae.eval();
        using var generator = new Generator(7);
        using Tensor z = randn([37, 8, 4, 4], generator: generator);
        using Tensor kept = vae.Decode(z).detach();            // autograd on: every activation kept to the end
        Tensor freed;
        using (no_grad()) freed = vae.Decode(z);
        using (freed)
        {
            Assert.Equal(kept.shape, freed.shape);
            Assert.True(kept.eq(freed).all().item<bool>(), $"max |difference| {kept.sub(freed).abs().max().item<float>()}");
            Assert.Equal(37 * 8 * 16, z.numel());               // the input was not disposed
            Assert.True(z.isfinite().all().item<bool>());
        }
    }
}
