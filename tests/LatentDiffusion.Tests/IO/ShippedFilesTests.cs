using System.Text.Json;
using LatentDiffusion.IO;
using LatentDiffusion.Tests.Cli;
using LatentDiffusion.Tests.Metrics;

namespace LatentDiffusion.Tests.IO;

/// <summary>
/// The shipped models and data are found from the program's location, never from the working directory: the live
/// files of the checkout a build runs from, else the copy installed beside the program.
/// </summary>
[Collection("Torch")]
public sealed class ShippedFilesTests
{
    const string Classifier = "models/classifier.safetensors";

    static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
    }

    [Fact]
    public void Locate_InACheckout_TakesTheRepositorysLiveFile_OverTheCopyBesideTheProgram()
    {
        using var dir = new TempDirectory();
        Touch(dir.File(RepositoryPaths.Marker));
        Touch(dir.File(Classifier));
        string bin = dir.File("src/LatentDiffusion.Cli/bin/Debug/net10.0");
        Touch(Path.Combine(bin, Classifier));
        Assert.Equal(new ShippedPath(dir.File(Classifier), ShippedOrigin.Repository), ShippedFiles.Locate(Classifier, bin));
    }

    [Fact]
    public void Locate_OutsideACheckout_TakesTheCopyBesideTheProgram()
    {
        using var dir = new TempDirectory();
        string installed = dir.File("tools/ldm");
        Touch(Path.Combine(installed, Classifier));
        Assert.Equal(new ShippedPath(Path.Combine(installed, Classifier), ShippedOrigin.Installation), ShippedFiles.Locate(Classifier, installed));
        // A checkout without the file does not hide the installed copy.
        Touch(dir.File(RepositoryPaths.Marker));
        Assert.Equal(ShippedOrigin.Installation, ShippedFiles.Locate(Classifier, installed).Origin);
    }

    [Fact]
    public void Locate_Nowhere_IsMissing_AtTheInstalledPath()
    {
        using var dir = new TempDirectory();
        ShippedPath path = ShippedFiles.Locate(Classifier, dir.Path);
        Assert.Equal(ShippedOrigin.Missing, path.Origin);
        Assert.Equal(dir.File(Classifier), path.Path);
        Assert.Contains("missing", path.Describe());
    }

    [Fact]
    public void ThisBuild_FindsTheRepositorysModelsAndData()
    {
        Assert.Equal(ShippedOrigin.Repository, ShippedFiles.Locate(ShippedFiles.ModelsDirectory).Origin);
        Assert.Equal(Path.Combine(RepositoryPaths.Root!, "data", "mnist"), LatentDiffusion.Data.MnistDataset.DefaultDirectory);
        // The build also puts copies beside the program, for when it is published or installed elsewhere.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, Classifier)));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "data", "mnist", "t10k-images-idx3-ubyte.gz")));
    }

    /// <summary>
    /// ldm "installed" outside any checkout — this build's output linked file by file into a temporary folder (the
    /// program's own three files copied, so its base directory is that folder) — run from the file system's root:
    /// <c>ldm info</c> says the shipped files come from the installation, and <c>ldm fid</c> finds the shipped classifier.
    /// </summary>
    [Trait("Category", "Slow")]
    [Fact]
    public void InstalledCopy_RunFromAnywhere_UsesItsOwnShippedFiles()
    {
        using var dir = new TempDirectory();
        string tool = Install(dir);
        string a = FidCalculatorTests.WriteIdx(dir.Path, "a-idx3-ubyte", SyntheticData.Split(150, seed: 1).Images);
        string b = FidCalculatorTests.WriteIdx(dir.Path, "b-idx3-ubyte", SyntheticData.Split(140, seed: 2).Images);

        var info = Run(tool, ["info", "--json"]);
        JsonElement shipped = JsonDocument.Parse(info.Stdout.TrimEnd().Split('\n')[^1]).RootElement.GetProperty("shipped");
        Assert.Equal("installation", shipped.GetProperty("models_origin").GetString());
        Assert.Equal(Path.Combine(tool, "models"), shipped.GetProperty("models").GetString());
        Assert.Equal("installation", shipped.GetProperty("data_origin").GetString());
        Assert.Contains("installed beside the tool", info.Stdout);

        var fid = Run(tool, ["fid", a, b, "--json"]);
        Assert.Contains(Path.Combine(tool, Classifier), fid.Stdout);
    }

    /// <summary>
    /// This build's output "installed" in <paramref name="dir"/>/ldm, outside any checkout: linked file by file, the
    /// program's own three files copied, so that its base directory is that folder. Returns the folder.
    /// </summary>
    internal static string Install(TempDirectory dir)
    {
        string tool = dir.File("ldm");
        Directory.CreateDirectory(tool);
        foreach (string entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
        {
            string name = Path.GetFileName(entry), target = Path.Combine(tool, name);
            if (name is "ldm.dll" or "ldm.deps.json" or "ldm.runtimeconfig.json") File.Copy(entry, target);
            else if (Directory.Exists(entry)) Directory.CreateSymbolicLink(target, entry);
            else File.CreateSymbolicLink(target, entry);
        }
        return tool;
    }

    static LdmProcess.Result Run(string tool, string[] args)
    {
        var result = LdmProcess.Run(args, workingDirectory: "/", program: Path.Combine(tool, "ldm.dll"));
        Assert.True(result.ExitCode == 0, $"ldm {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}");
        return result;
    }
}
