namespace LatentDiffusion.Tests;

/// <summary>
/// Tests that seed or train share TorchSharp's global generator and thread pool, so they run one at a time.
/// </summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCollection;
