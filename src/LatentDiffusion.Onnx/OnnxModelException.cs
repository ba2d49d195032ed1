namespace LatentDiffusion.Onnx;

/// <summary>
/// An ONNX file (or folder of them) that cannot serve: missing, unreadable, of another kind than asked, written by
/// something other than <c>ldm export</c>, or not fitting its partner. The message names the file and the problem in
/// one line, so a front end prints it as the whole story.
/// </summary>
public sealed class OnnxModelException(string path, string reason, Exception? inner = null) : Exception($"{path}: {reason}", inner)
{
    /// <summary>The file or folder at fault.</summary>
    public string FilePath { get; } = path;
}
