using System.Globalization;
using System.Text;

namespace LatentDiffusion.Server;

/// <summary>
/// Text made safe for the server's log, which goes to a terminal: a request's field is the client's to choose, and a
/// newline in it would forge a log line, an ESC or BEL would drive the terminal, 60 KB would flood it.
/// </summary>
public static class LogText
{
    /// <summary>Most characters of a request's text that are logged; the rest becomes "…".</summary>
    public const int MaxRequestChars = 200;

    /// <summary>
    /// <paramref name="text"/> on one line: \n, \r and \t as those two characters, every other control or invisible
    /// formatting character (ESC, BEL, DEL, U+2028, a bidirectional override) as \uXXXX; cut to
    /// <paramref name="maxChars"/> characters first, with "…" when cut.
    /// </summary>
    public static string Escape(string text, int maxChars = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        bool cut = text.Length > maxChars;
        int length = cut ? maxChars : text.Length;
        if (cut && length > 0 && char.IsHighSurrogate(text[length - 1])) length--;    // never half a pair
        var line = new StringBuilder(length + 8);
        for (int i = 0; i < length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n': line.Append(@"\n"); break;
                case '\r': line.Append(@"\r"); break;
                case '\t': line.Append(@"\t"); break;
                default:
                    if (char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                        line.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else line.Append(c);
                    break;
            }
        }
        if (cut) line.Append('…');
        return line.ToString();
    }
}
