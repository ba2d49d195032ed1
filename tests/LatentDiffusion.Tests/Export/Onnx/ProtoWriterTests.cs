using LatentDiffusion.Export.Onnx;

namespace LatentDiffusion.Tests.Export.Onnx;

/// <summary>The wire format against the encodings protobuf's documentation spells out (protobuf.dev, "Encoding").</summary>
public sealed class ProtoWriterTests
{
    [Fact]
    public void Varint_150_IsTheDocumentedThreeBytes()
    {
        // "message Test1 { optional int32 a = 1; }" with a = 150 → 08 96 01
        Assert.Equal(new byte[] { 0x08, 0x96, 0x01 }, new ProtoWriter().Varint(1, 150).ToArray());
    }

    [Fact]
    public void Varint_Negative_TakesTenBytesAsInt64()
    {
        byte[] bytes = new ProtoWriter().Varint(1, -1).ToArray();
        Assert.Equal(11, bytes.Length);                                            // tag + 10 bytes
        Assert.Equal(0x01, bytes[^1]);
        Assert.All(bytes[1..^1], b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void String_IsLengthDelimited()
    {
        // "message Test2 { optional string b = 2; }" with b = "testing" → 12 07 74 65 73 74 69 6e 67
        Assert.Equal(Convert.FromHexString("120774657374696e67"), new ProtoWriter().String(2, "testing").ToArray());
    }

    [Fact]
    public void Message_IsItsBytesWithTheirLength()
    {
        // "message Test3 { optional Test1 c = 3; }" with c.a = 150 → 1a 03 08 96 01
        Assert.Equal(Convert.FromHexString("1a03089601"), new ProtoWriter().Message(3, m => m.Varint(1, 150)).ToArray());
    }

    [Fact]
    public void Float_IsFixed32LittleEndian()
    {
        Assert.Equal(Convert.FromHexString("150000803f"), new ProtoWriter().Float(2, 1f).ToArray());   // tag (2 << 3 | 5), 1.0f
    }
}
