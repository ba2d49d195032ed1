namespace LatentDiffusion.IO;

/// <summary>
/// The one exception for a file whose content is not what it should be: an IDX file with a bad header, a
/// truncated weights file, an unreadable image. It always names the file and says what is wrong, so a front end
/// can print <see cref="Exception.Message"/> as the whole story.
/// </summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string path, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        FilePath = path;
        Reason = reason;
    }

    /// <summary>The file that is wrong.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Reason { get; }
}
