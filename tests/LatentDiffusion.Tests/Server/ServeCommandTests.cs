using LatentDiffusion.IO;
using System.Net;
using System.Net.Sockets;
using LatentDiffusion.Tests.Cli;

namespace LatentDiffusion.Tests.Server;

/// <summary><c>ldm serve</c>'s own errors: one line on stderr, exit 2 for a bad option, 1 for a failure.</summary>
[Trait("Category", "Slow")]
[Collection("Serve")]
public sealed class ServeCommandTests
{
    static string OneLine(LdmProcess.Result result)
    {
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length is 1 or 2, result.Stderr);                                 // the error (and "Run 'ldm --help'" for a usage error)
        Assert.Empty(result.Stdout.Trim());
        return lines[0];
    }

    [Fact]
    public void Serve_PortOutOfRange_IsAUsageError()
    {
        var result = LdmProcess.Run(["serve", "--port", "70000"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("ldm: --port must be 0-65535 (got 70000)", OneLine(result));
    }

    [Fact]
    public void Serve_NegativeOneThreadUpTo_IsAUsageError()
    {
        var result = LdmProcess.Run(["serve", "--port", "0", "--one-thread-up-to", "-1"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("ldm: --one-thread-up-to must be 0 or more (got -1)", OneLine(result));
    }

    [Fact]
    public void Serve_MissingModelsFolder_SaysWhich()
    {
        using var dir = new TempDirectory();
        var result = LdmProcess.Run(["serve", "--port", "0", "--models", dir.File("nowhere")]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("models folder", OneLine(result));
    }

    [Fact]
    public void Serve_PortInUse_FailsWithOneLine()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var result = LdmProcess.Run(["serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" });
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", OneLine(result));
    }

    [Fact]
    public void Serve_VaeWithSeveralFolders_IsAUsageError()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("a"));
        Directory.CreateDirectory(dir.File("b"));
        var result = LdmProcess.Run(["serve", "--port", "0", "--models", dir.File("a"), dir.File("b"), "--vae", dir.File("a/v.safetensors")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("ldm: --vae applies to one models folder; with several, each folder's own latent-vae.safetensors is used", OneLine(result));
    }

    [Fact]
    public void Serve_FolderWithoutClassifier_NamesTheFolderAndTheFile()
    {
        using var dir = new TempDirectory();
        string shipped = RepositoryPaths.Find("models") ?? throw new DirectoryNotFoundException("models");
        string flowers = dir.File("flowers");
        Directory.CreateDirectory(flowers);
        File.Copy(Path.Combine(shipped, "latent-vae.safetensors"), Path.Combine(flowers, "latent-vae.safetensors"));
        var result = LdmProcess.Run(["serve", "--port", "0", "--models", shipped, "--models", flowers]);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"ldm: error: models folder {flowers} has no classifier: {Path.Combine(flowers, "classifier.safetensors")} does not exist", OneLine(result));
    }

    [Fact]
    public void Serve_TwoFoldersOfTheSameName_IsAUsageError()
    {
        using var dir = new TempDirectory();
        string shipped = RepositoryPaths.Find("models") ?? throw new DirectoryNotFoundException("models");
        foreach (string parent in new[] { "a", "b" })
        {
            Directory.CreateDirectory(dir.File($"{parent}/x"));
            foreach (string file in new[] { "latent-vae.safetensors", "classifier.safetensors" })
                File.Copy(Path.Combine(shipped, file), dir.File($"{parent}/x/{file}"));
        }
        var result = LdmProcess.Run(["serve", "--port", "0", "--models", shipped, dir.File("a/x"), dir.File("b/x")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("are both called 'x'", OneLine(result));
    }

    [Fact]
    public void Serve_ClassifierOfAnotherShape_IsOneLineNamingBoth()
    {
        using var dir = new TempDirectory();
        string rgb = ServeModels.CreateRgb(dir, "colours");
        string shipped = RepositoryPaths.Find("models/classifier.safetensors") ?? throw new FileNotFoundException("models/classifier.safetensors");
        var result = LdmProcess.Run(["serve", "--port", "0", "--models", rgb, "--classifier", shipped], new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" });
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"ldm: error: {shipped}: the classifier reads 1x32x32 images but the VAE {Path.Combine(rgb, "latent-vae.safetensors")} makes 3x64x64; give the classifier trained on the same data",
            OneLine(result));
    }
}
