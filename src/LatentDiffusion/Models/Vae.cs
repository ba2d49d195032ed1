using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TorchSharp.Modules;

namespace LatentDiffusion.Models;

/// <summary>How the encoder's second half of channels gives the posterior's standard deviation.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SigmaParameterization>))]
public enum SigmaParameterization
{
    /// <summary>The post: the channels are σ itself (any sign); the KL uses log(σ²) with no epsilon.</summary>
    Raw,
    /// <summary>The usual form: the channels are log σ²; σ = exp(½ log σ²) and the KL never takes a log.</summary>
    LogVariance,
}

/// <summary>
/// Settings of part 2's VAE. Defaults are the post's (features and latent size inferred from its code and figures:
/// encoder [1, 8, 16, 32, 8], decoder [4, 32, 16, 8, 1], 52,965 parameters, KL weight 1, raw σ).
/// </summary>
public sealed record VaeConfig
{
    /// <summary>Feature counts down to the last hidden level. Post: [1, 8, 16, 32].</summary>
    public IReadOnlyList<int> Features { get; init; } = [1, 8, 16, 32];

    /// <summary>Channels of the (C, 4, 4) latent. Post: 4.</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>What the encoder's σ channels mean. Post: <see cref="SigmaParameterization.Raw"/>.</summary>
    public SigmaParameterization Sigma { get; init; } = SigmaParameterization.Raw;

    /// <summary>
    /// Hidden channels of a 1x1 convolution head (keys <c>head.weight</c>, <c>head.bias</c>) that maps the encoder's last
    /// ConvBlock to μ and σ, so neither passes through BatchNorm and LeakyReLU; 0 (the post) means no head: the last
    /// ConvBlock outputs μ and σ itself. The LeakyReLU squashes negative values 100-fold, so with
    /// <see cref="SigmaParameterization.LogVariance"/> a head is what lets log σ² go well below 0.
    /// </summary>
    public int HeadChannels { get; init; }

    /// <summary>Weight of the KL term against the per-image summed squared error. Post: 1.</summary>
    public double KlWeight { get; init; } = 1.0;

    /// <summary>
    /// Run in the channels-last (NHWC) memory layout (<see cref="ConvEncoder.ChannelsLastLayout"/>), for training and
    /// inference: faster training steps on CPU (bench/README.md), the same values to float32 rounding. Not a weight; part of equality because
    /// it changes the rounding and so a run's trajectory. Post (and default): false, NCHW.
    /// </summary>
    public bool ChannelsLast { get; init; }

    /// <summary>
    /// Image side the VAE is trained on: null (not written, as before it existed) means 32. Each level of
    /// <see cref="Features"/> past the first halves it, so a 64-px VAE with one more level (see <see cref="ForResolution"/>)
    /// keeps the (C, 4, 4) latent and the UNet unchanged.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Resolution { get; init; }

    /// <summary>
    /// Set on a VAE whose decoder was tuned after training (<see cref="DecoderTuning"/>): what it was tuned from and with.
    /// Null (not written) for a trained VAE. Not part of equality: it changes no shape.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DecoderTuning? Tuning { get; init; }

    /// <summary>
    /// The decoder's hidden widths as a multiple of <see cref="Features"/>' (null, not written: 1, the encoder's mirror).
    /// A decoder tuned wider (<see cref="DecoderWidening"/>) renders more texture from the same latents.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DecoderWidth { get; init; }

    /// <summary>Input and output channels: the first feature count (1 gray, 3 RGB).</summary>
    [JsonIgnore]
    public int Channels => Features[0];

    /// <summary>The image side, 32 when not recorded.</summary>
    [JsonIgnore]
    public int Side => Resolution ?? 32;

    /// <summary>
    /// This VAE for <paramref name="channels"/> and <paramref name="resolution"/> px: the first feature count becomes the
    /// channels; at 64 px one more level of twice the last width is appended (one more downsampling), so the latent
    /// stays (C, 4, 4). At 1 channel and 32 px: this config unchanged.
    /// </summary>
    public VaeConfig ForResolution(int channels, int resolution)
    {
        if (resolution is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "32 or 64 px");
        if (channels == Channels && resolution == Side) return this;
        int[] features = [channels, .. Features.Skip(1)];
        if (resolution == 64 && Side == 32) features = [.. features, 2 * features[^1]];
        return this with { Features = features, Resolution = resolution == 32 ? null : resolution };
    }

    /// <summary>The latent's side: <see cref="Side"/> halved once per level of <see cref="Features"/> past the first (4 for the series' VAEs).</summary>
    [JsonIgnore]
    public int LatentSide => Side >> (Features.Count - 1);

    /// <summary>
    /// This VAE with (C, <paramref name="side"/>, <paramref name="side"/>) latents: the hidden levels are the last k of
    /// <see cref="Features"/> (the narrowest dropped first) for k = log2(image side / latent side), so an 8x8 latent at
    /// 32 px keeps the two deepest levels, [C, 16, 32] from [C, 8, 16, 32]. More levels than there are prepend halves of
    /// the first. At the current latent side: this config unchanged.
    /// </summary>
    public VaeConfig ForLatentSide(int side)
    {
        if (side < 1 || side >= Side || Side % side != 0 || !int.IsPow2(Side / side))
            throw new ArgumentOutOfRangeException(nameof(LatentSide), side, $"a {Side}-px VAE's latent side is {Side} halved one or more times (e.g. 4 or 8)");
        if (side == LatentSide) return this;
        int levels = int.Log2(Side / side);
        List<int> hidden = [.. Features.Skip(1)];
        while (hidden.Count < levels) hidden.Insert(0, Math.Max(1, hidden[0] / 2));
        return this with { Features = [Channels, .. hidden.TakeLast(levels)] };
    }

    public bool Equals(VaeConfig? other) =>
        other is not null && Features.SequenceEqual(other.Features) && LatentChannels == other.LatentChannels &&
        Sigma == other.Sigma && KlWeight.Equals(other.KlWeight) && HeadChannels == other.HeadChannels && ChannelsLast == other.ChannelsLast &&
        Side == other.Side && (DecoderWidth ?? 1) == (other.DecoderWidth ?? 1);

    public override int GetHashCode() => HashCode.Combine(Features.Aggregate(17, HashCode.Combine), LatentChannels, Sigma, KlWeight, HeadChannels, ChannelsLast, Side, DecoderWidth ?? 1);

    /// <summary>The encoder's feature list: <see cref="Features"/> + [2·latent channels] (or + [head channels] with a head).</summary>
    [JsonIgnore]
    public int[] EncoderFeatures => [.. Features, HeadChannels > 0 ? HeadChannels : 2 * LatentChannels];

    /// <summary>The decoder's feature list: [latent channels] + reversed <see cref="Features"/>, the hidden ones times <see cref="DecoderWidth"/>.</summary>
    [JsonIgnore]
    public int[] DecoderFeatures => [LatentChannels, .. Features.Skip(1).Reverse().Select(f => f * (DecoderWidth ?? 1)), Channels];

    public void Validate()
    {
        if (Features.Count < 2 || Features.Any(f => f <= 0)) throw new ArgumentException("VAE features need at least two positive counts");
        if (Resolution is not (null or 32 or 64)) throw new ArgumentOutOfRangeException(nameof(Resolution), Resolution, "32 or 64 px");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LatentChannels);
        ArgumentOutOfRangeException.ThrowIfNegative(HeadChannels);
        if (DecoderWidth is < 1) throw new ArgumentOutOfRangeException(nameof(DecoderWidth), DecoderWidth, "must be ≥ 1");
        if (!(KlWeight >= 0) || double.IsInfinity(KlWeight)) throw new ArgumentOutOfRangeException(nameof(KlWeight), KlWeight, "must be a finite number ≥ 0");
    }
}

/// <summary>One pass of the VAE: the posterior's parameters, the sampled latent and its decoding.</summary>
public sealed record VaePass(Tensor Mu, Tensor Sigma, Tensor Z, Tensor Reconstruction) : IDisposable
{
    public void Dispose()
    {
        Mu.Dispose(); Sigma.Dispose(); Z.Dispose(); Reconstruction.Dispose();
    }
}

/// <summary>
/// Part 2's VAE: a <see cref="ConvEncoder"/> whose last level outputs 2·C channels (μ = the first C, σ = the last C,
/// both through the block's BatchNorm and LeakyReLU, as in the post), z = μ + σ·ε with ε ~ N(0, I) (Kingma and Welling
/// 2014, eq. 10), and a <see cref="ConvDecoder"/> identical to the autoencoder's. Keys <c>encoder.layers.…</c> and
/// <c>decoder.layers.…</c>, as the post's two modules. (B, 1, 32, 32) → μ, σ (B, C, 4, 4) → (B, 1, 32, 32).
/// </summary>
public sealed class Vae : Module<Tensor, Tensor>
{
    /// <summary>Parameters of the post's configuration (computed from the post's code; the post states none).</summary>
    public const long ExpectedParameterCount = 52_965;

    private readonly ConvEncoder encoder;
    private readonly Conv2d? head;
    private readonly ConvDecoder decoder;

    public Vae(VaeConfig? config = null) : base(nameof(Vae))
    {
        Config = config ?? new VaeConfig();
        Config.Validate();
        encoder = new ConvEncoder(Config.EncoderFeatures);
        if (Config.HeadChannels > 0) head = nn.Conv2d(Config.HeadChannels, 2 * Config.LatentChannels, 1);   // (B, 2C, 4, 4), no norm or activation
        decoder = new ConvDecoder(Config.DecoderFeatures);
        RegisterComponents();
        ChannelsLastLayout = Config.ChannelsLast;
    }

    public VaeConfig Config { get; }

    /// <summary>Runs encoder and decoder channels-last or NCHW (default); see <see cref="ConvEncoder.ChannelsLastLayout"/>.</summary>
    public bool ChannelsLastLayout
    {
        get => encoder.ChannelsLastLayout;
        set => encoder.ChannelsLastLayout = decoder.ChannelsLastLayout = value;
    }

    public ConvEncoder Encoder => encoder;

    public ConvDecoder Decoder => decoder;

    /// <summary>Latent shape (C, h, w) for inputs of the configured side (32 by default: (C, 4, 4)).</summary>
    public long[] LatentShape => [Config.LatentChannels, Config.Side >> encoder.Downsamplings, Config.Side >> encoder.Downsamplings];

    /// <summary>Image shape (channels, side, side) the VAE takes and gives.</summary>
    public long[] ImageShape => [Config.Channels, Config.Side, Config.Side];

    /// <summary>(B, 1, 32, 32) → (μ, σ), each (B, C, 4, 4). With <see cref="SigmaParameterization.Raw"/>, σ may be negative.</summary>
    public (Tensor Mu, Tensor Sigma) Encode(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = encoder.forward(x);                                    // (B, 2C, 4, 4), or (B, head, 4, 4)
        if (head is not null) h = head.forward(h);                        // (B, 2C, 4, 4)
        int c = Config.LatentChannels;
        Tensor mu = h.narrow(1, 0, c).contiguous();
        Tensor second = h.narrow(1, c, c).contiguous();
        Tensor sigma = Config.Sigma == SigmaParameterization.Raw ? second : second.mul(0.5).exp();
        return (mu.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope());
    }

    /// <summary>Latent (B, C, 4, 4) → image (B, 1, 32, 32), unbounded (clip to [0, 1] to show it).</summary>
    public Tensor Decode(Tensor z) => decoder.forward(z);

    /// <summary>Encodes, samples z = μ + σ·<paramref name="noise"/> and decodes.</summary>
    public VaePass Forward(Tensor x, Tensor noise)
    {
        using var scope = NewDisposeScope();
        (Tensor mu, Tensor sigma) = Encode(x);
        Tensor z = noise.mul(sigma).add_(mu);                            // the post's s * sigma + mu
        Tensor reconstruction = decoder.forward(z);
        return new VaePass(mu.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope(), z.MoveToOuterDisposeScope(), reconstruction.MoveToOuterDisposeScope());
    }

    /// <summary>Encodes and samples one latent per image, drawing ε from <paramref name="generator"/>.</summary>
    public Tensor Sample(Tensor x, Generator? generator)
    {
        using var scope = NewDisposeScope();
        (Tensor mu, Tensor sigma) = Encode(x);
        Tensor eps = randn(mu.shape, dtype: mu.dtype, device: mu.device, generator: generator);
        return eps.mul_(sigma).add_(mu).MoveToOuterDisposeScope();
    }

    /// <summary>The deterministic reconstruction decode(μ).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        (Tensor mu, _) = Encode(x);
        return decoder.forward(mu).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL(N(μ, σ²) ‖ N(0, I)) per image, summed over the latent: ½ Σ (σ² + μ² − log σ² − 1) (Kingma and Welling 2014,
    /// appendix B). Raw σ computes log σ² as the post does, with no epsilon (σ = 0 gives +∞).
    /// </summary>
    public Tensor Kl(Tensor mu, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        Tensor sigma2 = sigma.square();
        Tensor logSigma2 = Config.Sigma == SigmaParameterization.Raw ? sigma2.log() : sigma.log().mul_(2.0);
        Tensor kl = sigma2.add(mu.square()).sub_(logSigma2).sub_(1.0).sum([1, 2, 3]).mul_(0.5);   // (B,)
        return kl.MoveToOuterDisposeScope();
    }

    /// <summary>Per-image summed squared error (B,), the post's reconstruction loss.</summary>
    public static Tensor ReconstructionLoss(Tensor prediction, Tensor x)
    {
        using var scope = NewDisposeScope();
        return prediction.sub(x).square().sum([1, 2, 3]).MoveToOuterDisposeScope();
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
