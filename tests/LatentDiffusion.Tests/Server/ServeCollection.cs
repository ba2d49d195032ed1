namespace LatentDiffusion.Tests.Server;

/// <summary>
/// Tests that run a real <c>ldm serve</c>: one at a time, after the parallel tests, so that their timings (a queue, a
/// cancellation, a load test) are not those of a machine busy with other tests.
/// </summary>
[CollectionDefinition("Serve", DisableParallelization = true)]
public sealed class ServeCollection;
