using System.Text.Json;
using LatentDiffusion.IO;

namespace LatentDiffusion.Export.Onnx;

/// <summary>One ONNX file written: where, what kind of network, from which model file.</summary>
public sealed record OnnxExportedFile(string Path, string Kind, string Source, string SourceSha256, long Bytes);

/// <summary>
/// <c>ldm export --onnx DIR</c>: each model file becomes one ONNX file per network (<c>NAME.onnx</c>, or
/// <c>NAME.decoder.onnx</c> and <c>NAME.encoder.onnx</c> for a VAE), written atomically, each carrying in its
/// <c>metadata_props</c> what a runtime needs (<see cref="KindKey"/>, <see cref="ModelKey"/>: kind, shapes, schedule,
/// latent scale, class names, samplers and their defaults; <see cref="ConfigKey"/>: the model's config as recorded);
/// <see cref="ManifestFile"/> beside them lists the files. The kinds of model file are listed once, in <see cref="Kinds"/>.
/// </summary>
public static class OnnxExport
{
    /// <summary>Metadata key: the network's kind (<see cref="UNetKind"/>, <see cref="DecoderKind"/>, …).</summary>
    public const string KindKey = "ldm.kind";

    /// <summary>Metadata key: a JSON object (snake_case) with what a runtime needs to use the network.</summary>
    public const string ModelKey = "ldm.model";

    /// <summary>Metadata key: the model's config as the library records it in the weights.</summary>
    public const string ConfigKey = "ldm.config";

    /// <summary>Metadata key: the model file's name and SHA-256.</summary>
    public const string SourceKey = "ldm.source", SourceShaKey = "ldm.source_sha256";

    /// <summary>Metadata key: the version of this metadata's layout (<see cref="FormatVersion"/>).</summary>
    public const string FormatKey = "ldm.format";

    public const string FormatVersion = "1";

    public const string UNetKind = "unet", DecoderKind = "vae-decoder", EncoderKind = "vae-encoder", ClassifierKind = "classifier";

    /// <summary>The manifest written beside the files.</summary>
    public const string ManifestFile = "ldm-onnx.json";

    /// <summary>Every kind of model file that exports, by the architecture it records.</summary>
    public static IReadOnlyList<IOnnxModelExport> Kinds { get; } = [new UNetOnnx(), new VaeOnnx(), new ClassifierOnnx()];

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The shipped models an export without <c>--model</c> writes: the generators (the distilled student too), the latent VAE and the classifier.</summary>
    public static IReadOnlyList<string> ShippedModels { get; } =
    [
        ShippedFiles.ConditionalFile, ShippedFiles.AlphaDeblendingFile, ShippedFiles.WideAlphaDeblendingFile, ShippedFiles.DiffusionFile,
        ShippedFiles.StudentFile, "latent-vae.safetensors", "classifier.safetensors",
    ];

    /// <summary>The exporter for <paramref name="path"/>'s architecture, or a <see cref="DataFormatException"/> naming the file.</summary>
    public static IOnnxModelExport KindOf(string path)
    {
        (string? architecture, _) = ModelFile.ReadHeader(path);
        if (architecture is null)
            throw new DataFormatException(path, "records no architecture (a .pt file?); export a .safetensors written by ldm");
        return Kinds.FirstOrDefault(k => k.Architecture == architecture)
            ?? throw new DataFormatException(path, $"holds a {architecture}, which does not export to ONNX; exportable: {string.Join(", ", Kinds.Select(k => k.Architecture))}");
    }

    /// <summary>
    /// Writes the ONNX files of <paramref name="models"/> into <paramref name="directory"/> (created if needed; files of
    /// the same names are replaced) and the manifest; returns the files written.
    /// </summary>
    public static IReadOnlyList<OnnxExportedFile> Export(IReadOnlyList<string> models, string directory, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (models.Count == 0) throw new ArgumentException("no model files to export");
        if (File.Exists(directory)) throw new IOException($"{directory}: exists and is a file, not a folder");
        var kinds = models.Select(m => (Path: m, Kind: KindOf(m))).ToList();            // every file checked before anything is written
        var stems = models.Select(Stem).ToList();
        if (stems.Distinct().Count() != stems.Count) throw new ArgumentException($"two model files share a name ({string.Join(", ", stems)}); the ONNX files are named after them");
        var written = new List<OnnxExportedFile>();
        foreach (var (path, kind) in kinds)
        {
            string sha = ModelWeights.Sha256(path);
            foreach (var (suffix, graph) in kind.Build(path))
            {
                string kindName = JsonDocument.Parse(graph.Metadata[ModelKey]).RootElement.GetProperty("kind").GetString()!;
                graph.Metadata[KindKey] = kindName;
                graph.Metadata[FormatKey] = FormatVersion;
                graph.Metadata[SourceKey] = Path.GetFileName(path);
                graph.Metadata[SourceShaKey] = sha;
                string file = Path.Combine(directory, Stem(path) + suffix + ".onnx");
                progress?.Invoke(file);
                byte[] bytes = graph.ToBytes();
                AtomicFile.WriteAllBytes(file, bytes);
                written.Add(new OnnxExportedFile(file, kindName, path, sha, bytes.Length));
            }
        }
        var manifest = new
        {
            format = FormatVersion,
            opset = OnnxGraph.Opset,
            files = written.Select(f => new { file = Path.GetFileName(f.Path), kind = f.Kind, source = Path.GetFileName(f.Source), source_sha256 = f.SourceSha256 }),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ManifestFile), JsonSerializer.Serialize(manifest, new JsonSerializerOptions(Json) { WriteIndented = true }) + "\n");
        return written;
    }

    /// <summary>"conditional" for models/conditional.safetensors.</summary>
    static string Stem(string path) => Path.GetFileNameWithoutExtension(path);
}
