using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LatentDiffusion.Tests.Server;

/// <summary>
/// <c>--one-thread-up-to</c>: a generation of at most that many digits runs on one libtorch thread, a larger one on the
/// process's count (two here, OMP_NUM_THREADS=2), and the answer says which.
/// </summary>
[Trait("Category", "Slow")]
[Collection("Serve")]
public sealed class ServeThreadsTests
{
    [Fact]
    public async Task Generate_UpToTheLimit_RunsOnOneThread_LargerOnTheProcesssCount()
    {
        using var dir = new TempDirectory();
        using ServeProcess server = ServeProcess.Start(["--models", ServeModels.Create(dir), "--one-thread-up-to", "3"],
            new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "2" });
        JsonElement info = await server.Http.GetFromJsonAsync<JsonElement>("api/models");
        Assert.Equal(3, info.GetProperty("limits").GetProperty("one_thread_up_to").GetInt32());
        async Task<int> Threads(int count)
        {
            using HttpResponseMessage response = await server.Http.PostAsync("api/generate",
                new StringContent($$"""{"model": "diffusion", "sampler": "ddim", "steps": 3, "count": {{count}}, "seed": 1}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("threads").GetInt32();
        }
        Assert.Equal(1, await Threads(3));
        Assert.Equal(2, await Threads(4));
        Assert.Equal(1, await Threads(1));   // set per generation, not left from the one before
    }
}
