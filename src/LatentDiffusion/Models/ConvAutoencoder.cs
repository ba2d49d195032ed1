using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LatentDiffusion.Models;

/// <summary>Settings of part 2's plain autoencoder. Defaults are the post's (read off its diagram; 51,357 parameters).</summary>
public sealed record AutoencoderConfig
{
    /// <summary>Encoder feature list; the decoder uses it reversed. Post: [1, 8, 16, 32, 4] → a 4x4x4 latent.</summary>
    public IReadOnlyList<int> Features { get; init; } = [1, 8, 16, 32, 4];

    /// <summary>
    /// Run in the channels-last (NHWC) memory layout (<see cref="ConvEncoder.ChannelsLastLayout"/>), for training and
    /// inference: faster training steps on CPU (bench/README.md), the same values to float32 rounding. Not a weight; part of equality because
    /// it changes the rounding and so a run's trajectory. Post (and default): false, NCHW.
    /// </summary>
    public bool ChannelsLast { get; init; }

    public bool Equals(AutoencoderConfig? other) => other is not null && Features.SequenceEqual(other.Features) && ChannelsLast == other.ChannelsLast;

    public override int GetHashCode() => HashCode.Combine(Features.Aggregate(17, HashCode.Combine), ChannelsLast);

    /// <summary>Latent channels (the last feature count).</summary>
    [JsonIgnore]
    public int LatentChannels => Features[^1];
}

/// <summary>
/// Part 2's <c>ConvAutoencoder</c>: <see cref="ConvEncoder"/>(features) then <see cref="ConvDecoder"/>(reversed
/// features). Keys <c>encoder.layers.…</c>, <c>decoder.layers.…</c>, as the post's module. (B, 1, 32, 32) → (B, 4, 4, 4)
/// → (B, 1, 32, 32), unbounded.
/// </summary>
public sealed class ConvAutoencoder : Module<Tensor, Tensor>
{
    /// <summary>Parameters of the post's configuration (the post states 51357).</summary>
    public const long ExpectedParameterCount = 51_357;

    private readonly ConvEncoder encoder;
    private readonly ConvDecoder decoder;

    public ConvAutoencoder(AutoencoderConfig? config = null) : base(nameof(ConvAutoencoder))
    {
        Config = config ?? new AutoencoderConfig();
        encoder = new ConvEncoder(Config.Features);
        decoder = new ConvDecoder(Config.Features.Reverse().ToArray());
        RegisterComponents();
        ChannelsLastLayout = Config.ChannelsLast;
    }

    public AutoencoderConfig Config { get; }

    /// <summary>Runs encoder and decoder channels-last or NCHW (default); see <see cref="ConvEncoder.ChannelsLastLayout"/>.</summary>
    public bool ChannelsLastLayout
    {
        get => encoder.ChannelsLastLayout;
        set => encoder.ChannelsLastLayout = decoder.ChannelsLastLayout = value;
    }

    public ConvEncoder Encoder => encoder;

    public ConvDecoder Decoder => decoder;

    /// <summary>(B, 1, 32, 32) → latent (B, C, 4, 4).</summary>
    public Tensor Encode(Tensor x) => encoder.forward(x);

    /// <summary>Latent (B, C, 4, 4) → image (B, 1, 32, 32), unbounded.</summary>
    public Tensor Decode(Tensor z) => decoder.forward(z);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(encoder.forward(x)).MoveToOuterDisposeScope();
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
