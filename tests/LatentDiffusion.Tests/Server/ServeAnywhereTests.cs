using System.Net.Http.Json;
using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Tests.IO;

namespace LatentDiffusion.Tests.Server;

/// <summary><c>ldm serve</c> installed outside any checkout and started from the file system's root serves its own shipped models and reports.</summary>
[Trait("Category", "Slow")]
[Collection("Serve")]
public sealed class ServeAnywhereTests
{
    [Fact]
    public async Task Serve_InstalledCopyFromRoot_ListsTheShippedModelsAndReports()
    {
        using var dir = new TempDirectory();
        string tool = ShippedFilesTests.Install(dir);
        using ServeProcess server = ServeProcess.Start([], null, workingDirectory: "/", program: Path.Combine(tool, "ldm.dll"));
        JsonElement info = await server.Http.GetFromJsonAsync<JsonElement>("api/models");
        var ids = info.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("diffusion", ids);
        Assert.Contains("conditional", ids);
        JsonElement reports = await server.Http.GetFromJsonAsync<JsonElement>("api/reports");
        Assert.Contains("part3", reports.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Contains("<h2>FID</h2>", await server.Http.GetStringAsync("docs/part3/index.html"));
        Assert.Contains("conditional.onnx", await server.Http.GetStringAsync("play/models/index.js"));         // the browser page travels too
        if (File.Exists(Path.Combine(RepositoryPaths.Find("docs/play")!, "ort", "ort.wasm.min.js")))                 // fetched by the build where npm was
            Assert.Contains("ONNX Runtime Web", await server.Http.GetStringAsync("play/ort/ort.wasm.min.js"));
    }
}
