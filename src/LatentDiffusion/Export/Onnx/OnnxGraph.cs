using System.Runtime.InteropServices;

namespace LatentDiffusion.Export.Onnx;

/// <summary>ONNX element types used here (onnx.proto, <c>TensorProto.DataType</c>).</summary>
public enum OnnxType
{
    Float = 1,
    Int64 = 7,
}

/// <summary>
/// Builds one ONNX model (onnx.proto: <c>ModelProto</c> holding a <c>GraphProto</c>): typed inputs and outputs,
/// initializers (the weights, float32 or int64, stored as little-endian <c>raw_data</c>), nodes in topological order,
/// and string metadata (<c>metadata_props</c>). A shape dimension given as null is the dynamic batch, named
/// <see cref="BatchDim"/>. <see cref="ToBytes"/> writes IR version 8 with the default domain at opset
/// <see cref="Opset"/>, the operator versions the exporters were written against (onnx/docs/Operators.md).
/// </summary>
public sealed class OnnxGraph(string name)
{
    /// <summary>The operator set every exported graph imports (ai.onnx, the default domain).</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 (onnx.proto, <c>IR_VERSION_2021_7_30</c>): the one released with opset 17.</summary>
    public const int IrVersion = 8;

    /// <summary>The name of the dynamic batch dimension of every input and output.</summary>
    public const string BatchDim = "batch";

    readonly List<Action<ProtoWriter>> inputs = [], outputs = [], initializers = [], nodes = [];
    readonly HashSet<string> names = [];
    int counter;

    public string Name { get; } = name;

    /// <summary>What the model is, for people (<c>ModelProto.doc_string</c>).</summary>
    public string DocString { get; set; } = "";

    /// <summary><c>ModelProto.metadata_props</c>: what a runtime needs to use the network (kind, config, defaults).</summary>
    public Dictionary<string, string> Metadata { get; } = [];

    /// <summary>Declares a graph input; returns its name.</summary>
    public string Input(string name, OnnxType type, params long?[] shape)
    {
        Claim(name);
        inputs.Add(w => ValueInfo(w, name, type, shape));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> (a node's output) as a graph output.</summary>
    public void Output(string value, OnnxType type, params long?[] shape) => outputs.Add(w => ValueInfo(w, value, type, shape));

    /// <summary>A float32 constant (weights); returns its name.</summary>
    public string Initializer(string name, float[] values, params long[] dims)
    {
        RequireCount(name, values.Length, dims);
        byte[] raw = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();   // little-endian on every platform .NET runs here
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        return AddInitializer(name, OnnxType.Float, raw, dims);
    }

    /// <summary>An int64 constant (axes, split sizes); returns its name.</summary>
    public string Initializer(string name, long[] values, params long[] dims)
    {
        RequireCount(name, values.Length, dims);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        return AddInitializer(name, OnnxType.Int64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), dims);
    }

    /// <summary>
    /// A node of operator <paramref name="op"/> (default domain) with one output, named <paramref name="output"/> or a
    /// fresh name; returns the output's name. An empty input name is an omitted optional input.
    /// </summary>
    public string Node(string op, string[] input, string? output = null, params OnnxAttribute[] attributes) =>
        Nodes(op, input, [output ?? Fresh(op)], attributes)[0];

    /// <summary>A node with several outputs (e.g. Split); returns their names.</summary>
    public string[] Nodes(string op, string[] input, string[] output, params OnnxAttribute[] attributes)
    {
        foreach (string o in output) Claim(o);
        string node = $"{op}_{nodes.Count}";
        nodes.Add(w =>
        {
            foreach (string i in input) w.String(1, i);
            foreach (string o in output) w.String(2, o);
            w.String(3, node);
            w.String(4, op);
            foreach (OnnxAttribute a in attributes) w.Message(5, a.WriteTo);
        });
        return output;
    }

    /// <summary>A fresh value name with <paramref name="stem"/> in it.</summary>
    public string Fresh(string stem) => $"{stem}_{counter++}";

    /// <summary>The serialised <c>ModelProto</c>.</summary>
    public byte[] ToBytes()
    {
        var model = new ProtoWriter();
        model.Varint(1, IrVersion);                                        // ir_version
        model.String(2, "ldm");                                            // producer_name
        model.String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0");   // producer_version
        model.String(6, DocString);                                        // doc_string
        model.Message(7, g =>                                              // graph
        {
            foreach (var node in nodes) g.Message(1, node);
            g.String(2, Name);
            foreach (var init in initializers) g.Message(5, init);
            foreach (var input in inputs) g.Message(11, input);
            foreach (var output in outputs) g.Message(12, output);
        });
        model.Message(8, o => o.String(1, "").Varint(2, Opset));           // opset_import: ai.onnx
        foreach (var (key, value) in Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            model.Message(14, e => e.String(1, key).String(2, value));     // metadata_props
        return model.ToArray();
    }

    string AddInitializer(string name, OnnxType type, byte[] raw, long[] dims)
    {
        Claim(name);
        initializers.Add(w =>
        {
            foreach (long d in dims) w.Varint(1, d);                       // dims
            w.Varint(2, (int)type);                                        // data_type
            w.String(8, name);                                             // name
            w.Bytes(9, raw);                                               // raw_data
        });
        return name;
    }

    /// <summary><c>ValueInfoProto</c>: name (1), type (2) = <c>TypeProto.tensor_type</c> (1) {elem_type 1, shape 2}.</summary>
    static void ValueInfo(ProtoWriter w, string name, OnnxType type, long?[] shape)
    {
        w.String(1, name);
        w.Message(2, t => t.Message(1, tensor =>
        {
            tensor.Varint(1, (int)type);
            tensor.Message(2, s =>
            {
                foreach (long? d in shape)
                    s.Message(1, dim => { if (d is long v) dim.Varint(1, v); else dim.String(2, BatchDim); });
            });
        }));
    }

    void Claim(string value)
    {
        if (string.IsNullOrEmpty(value) || !names.Add(value)) throw new ArgumentException($"ONNX value name '{value}' is empty or used twice", nameof(value));
    }

    static void RequireCount(string name, int count, long[] dims)
    {
        long want = dims.Aggregate(1L, (a, d) => a * d);
        if (want != count) throw new ArgumentException($"initializer {name}: {count} values for shape [{string.Join(", ", dims)}]");
    }
}
