using System.Buffers.Binary;
using System.Text;

namespace LatentDiffusion.Export.Onnx;

/// <summary>
/// The protocol-buffers wire format (protobuf.dev, "Encoding"), as much of it as onnx.proto's messages need: varint
/// fields (wire type 0: int64, int32, enums), 32-bit fields (wire type 5: float) and length-delimited fields (wire type
/// 2: strings, bytes, nested messages). Each field is a tag (field number &lt;&lt; 3 | wire type) then its value; repeated
/// fields are written one element a tag (the unpacked form every proto2 and proto3 parser reads). A nested message is
/// written into its own buffer first, because its length precedes it.
/// </summary>
internal sealed class ProtoWriter
{
    readonly MemoryStream buffer = new();

    /// <summary>An int64/int32/enum field (wire type 0); negative values take ten bytes, as protobuf's int64 does.</summary>
    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A float field (wire type 5, little-endian IEEE 754).</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        buffer.Write(bytes);
        return this;
    }

    /// <summary>A bytes field (wire type 2).</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        buffer.Write(value);
        return this;
    }

    /// <summary>A string field: its UTF-8 bytes.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A nested message field, written by <paramref name="body"/>.</summary>
    public ProtoWriter Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        return Bytes(field, inner.buffer.GetBuffer().AsSpan(0, (int)inner.buffer.Length));
    }

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => buffer.ToArray();

    void Tag(int field, int wireType)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(field);
        WriteVarint((ulong)((field << 3) | wireType));
    }

    /// <summary>Base-128 varint: seven bits a byte, least significant first, the high bit set on all but the last.</summary>
    void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        buffer.WriteByte((byte)value);
    }
}
