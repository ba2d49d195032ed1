using System.Net;

namespace LatentDiffusion.Tests.Server;

/// <summary>The reports folder serves only files that resolve inside it: a symbolic link out of it is not followed.</summary>
[Trait("Category", "Slow")]
[Collection("Serve")]
public sealed class ServeDocsTests
{
    [Fact]
    public async Task Docs_SymlinkOutOfTheFolder_Is404_OneInsideIsServed()
    {
        using var dir = new TempDirectory();
        string outside = dir.File("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "secret");
        string docs = dir.File("docs");
        Directory.CreateDirectory(Path.Combine(docs, "part9"));
        File.WriteAllText(Path.Combine(docs, "part9", "index.html"), "<title>Part 9</title>");
        File.CreateSymbolicLink(Path.Combine(docs, "leak.txt"), Path.Combine(outside, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(docs, "relative.txt"), "../outside/secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(docs, "linked"), outside);
        File.CreateSymbolicLink(Path.Combine(docs, "alias.html"), Path.Combine(docs, "part9", "index.html"));
        File.WriteAllText(Path.Combine(docs, "secret.txt"), "decoy");                     // what "linked/../secret.txt" is as text
        File.CreateSymbolicLink(Path.Combine(docs, "dotdot.txt"), "linked/../secret.txt");   // the kernel walks it out: outside/../secret.txt
        File.WriteAllText(dir.File("secret.txt"), "secret");

        using ServeProcess server = ServeProcess.Start("--models", ServeModels.Create(dir), "--docs", docs);
        foreach (string path in new[] { "docs/leak.txt", "docs/relative.txt", "docs/linked/secret.txt", "docs/dotdot.txt" })
        {
            using HttpResponseMessage response = await server.Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);   // the status, whatever the body
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }
        Assert.Contains("Part 9", await server.Http.GetStringAsync("docs/part9/index.html"));
        Assert.Contains("Part 9", await server.Http.GetStringAsync("docs/alias.html"));
    }
}
