using Microsoft.ML.OnnxRuntime;

namespace LatentDiffusion.Onnx;

/// <summary>
/// One exported network on ONNX Runtime: the session, its <see cref="ModelInfo"/>, and a run of float32/int64 inputs
/// to named float32 outputs. Loading checks that the file is an ONNX model written by <c>ldm export</c> and of the
/// kind asked for; any problem is an <see cref="OnnxModelException"/> naming the file.
/// </summary>
public sealed class OnnxNetwork : IDisposable
{
    readonly InferenceSession session;

    OnnxNetwork(string path, InferenceSession session, ModelInfo info, string modelJson)
    {
        Path = path;
        this.session = session;
        Info = info;
        ModelJson = modelJson;
    }

    public string Path { get; }

    public ModelInfo Info { get; }

    /// <summary>The file's <c>ldm.model</c> metadata as written, the JSON <see cref="Info"/> was read from.</summary>
    public string ModelJson { get; }

    /// <summary>The graph's input names, in order.</summary>
    public IReadOnlyList<string> InputNames => session.InputNames;

    /// <summary>Opens <paramref name="path"/> and checks its kind is <paramref name="kind"/> (null: any of ours).</summary>
    public static OnnxNetwork Open(string path, string? kind, RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        if (Directory.Exists(path)) throw new OnnxModelException(path, "is a folder, not an ONNX file");
        if (!File.Exists(path)) throw new OnnxModelException(path, "file not found");
        InferenceSession session;
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        try
        {
            session = new InferenceSession(path, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException(path, $"not a loadable ONNX model ({FirstLine(e.Message)})", e);
        }
        try
        {
            IReadOnlyDictionary<string, string> meta = session.ModelMetadata.CustomMetadataMap;
            if (!meta.TryGetValue(ModelInfo.KindKey, out string? found) || !meta.TryGetValue(ModelInfo.ModelKey, out string? json))
                throw new OnnxModelException(path, "has no ldm metadata (ldm.kind, ldm.model): export it with ldm export --onnx");
            if (meta.GetValueOrDefault(ModelInfo.FormatKey) != ModelInfo.FormatVersion)
                throw new OnnxModelException(path, $"ldm metadata format {meta.GetValueOrDefault(ModelInfo.FormatKey) ?? "missing"}, this runtime reads {ModelInfo.FormatVersion}: export it again with this version's ldm");
            if (kind is not null && found != kind)
                throw new OnnxModelException(path, $"holds a {found}, not a {kind}");
            return new OnnxNetwork(path, session, ModelInfo.Parse(path, json), json);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (name → float[] or long[] with its shape) and returns the float32
    /// outputs <paramref name="outputs"/> asks for, in that order.
    /// </summary>
    public float[][] Run(IReadOnlyList<(string Name, Array Values, long[] Shape)> inputs, params string[] outputs)
    {
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (var (_, data, shape) in inputs)
                values.Add(data switch
                {
                    float[] f => OrtValue.CreateTensorValueFromMemory(f, shape),
                    long[] l => OrtValue.CreateTensorValueFromMemory(l, shape),
                    _ => throw new ArgumentException($"unsupported input type {data.GetType().Name}"),
                });
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, outputs);
            return results.Select(r => r.GetTensorDataAsSpan<float>().ToArray()).ToArray();
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
        }
    }

    public void Dispose() => session.Dispose();

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}

/// <summary>How ONNX Runtime runs: intra-op threads (default: every core).</summary>
public sealed record RuntimeOptions
{
    public int Threads { get; init; } = Environment.ProcessorCount;
}
