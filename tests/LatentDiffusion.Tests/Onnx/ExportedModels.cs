using LatentDiffusion.Export.Onnx;
using LatentDiffusion.IO;

namespace LatentDiffusion.Tests.Onnx;

/// <summary>
/// The shipped models exported once per test class (<c>IClassFixture</c>) into a temporary folder, deleted afterwards:
/// what <c>ldm export --onnx DIR</c> writes.
/// </summary>
public sealed class ExportedModels : IDisposable
{
    readonly TempDirectory directory = new();

    public ExportedModels()
    {
        Files = OnnxExport.Export(OnnxExport.ShippedModels.Select(Shipped).ToArray(), directory.Path);
    }

    /// <summary>The folder holding the ONNX files and the manifest.</summary>
    public string Directory => directory.Path;

    public IReadOnlyList<OnnxExportedFile> Files { get; }

    /// <summary>DIR/<paramref name="name"/>.</summary>
    public string File(string name) => directory.File(name);

    /// <summary>The repository's models/<paramref name="file"/>.</summary>
    public static string Shipped(string file) =>
        RepositoryPaths.Find("models/" + file) ?? throw new FileNotFoundException($"models/{file} not found above {AppContext.BaseDirectory}");

    public void Dispose() => directory.Dispose();
}
