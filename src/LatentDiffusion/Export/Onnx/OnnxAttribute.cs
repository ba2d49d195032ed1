namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// A node attribute (onnx.proto's <c>AttributeProto</c>): a name, a type (<c>AttributeType</c>: FLOAT 1, INT 2,
/// STRING 3, FLOATS 6, INTS 7) and the value in the field of that type (f 2, i 3, s 4, floats 7, ints 8).
/// </summary>
public sealed record OnnxAttribute
{
    OnnxAttribute(string name, int type, Action<ProtoWriter> value)
    {
        Name = name;
        Type = type;
        this.value = value;
    }

    readonly Action<ProtoWriter> value;

    public string Name { get; }

    /// <summary>onnx.proto's <c>AttributeProto.AttributeType</c>.</summary>
    public int Type { get; }

    public static OnnxAttribute Float(string name, float f) => new(name, 1, w => w.Float(2, f));

    public static OnnxAttribute Int(string name, long i) => new(name, 2, w => w.Varint(3, i));

    public static OnnxAttribute String(string name, string s) => new(name, 3, w => w.String(4, s));

    public static OnnxAttribute Ints(string name, params long[] ints) => new(name, 7, w =>
    {
        foreach (long i in ints) w.Varint(8, i);
    });

    /// <summary>The <c>AttributeProto</c> fields: name (1), the value, type (20).</summary>
    internal void WriteTo(ProtoWriter w)
    {
        w.String(1, Name);
        value(w);
        w.Varint(20, Type);
    }
}
