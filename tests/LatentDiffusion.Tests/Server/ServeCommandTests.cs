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
}
