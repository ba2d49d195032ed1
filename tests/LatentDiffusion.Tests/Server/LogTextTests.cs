using LatentDiffusion.Server;

namespace LatentDiffusion.Tests.Server;

public sealed class LogTextTests
{
    [Theory]
    [InlineData("plain ε text", "plain ε text")]
    [InlineData("a\nb\r\tc", @"a\nb\r\tc")]
    [InlineData("\u001b[31mred\u0007", @"\u001B[31mred\u0007")]
    [InlineData("x\u2028y\u202Ez\u007F", @"x\u2028y\u202Ez\u007F")]
    public void Escape_ControlAndFormatCharacters_AreWrittenOut(string text, string logged) =>
        Assert.Equal(logged, LogText.Escape(text));

    [Fact]
    public void Escape_LongText_IsCutWithAnEllipsis_NeverHalfASurrogatePair()
    {
        Assert.Equal(new string('x', 200) + "…", LogText.Escape(new string('x', 60_000), LogText.MaxRequestChars));
        Assert.Equal("ab…", LogText.Escape("ab😀c", 3));
        Assert.Equal("abc", LogText.Escape("abc", 3));
    }
}
