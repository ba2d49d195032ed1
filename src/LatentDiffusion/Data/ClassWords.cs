using System.Globalization;

namespace LatentDiffusion.Data;

/// <summary>
/// How reports and progress lines name a dataset's classes: MNIST's digits ("digit 3", one row per digit) or any other
/// set's named classes ("class 5 (sandal)", one row per class, labelled with the names).
/// </summary>
/// <param name="Singular">"digit" or "class".</param>
/// <param name="Classes">The classes together: "digits" or "classes".</param>
/// <param name="Samples">What one sample is called: "digits" or "images".</param>
/// <param name="Names">Class i's name ("0".."9" for MNIST).</param>
/// <param name="IsMnist">MNIST itself: its report keeps the series' 99 % accuracy goal.</param>
public sealed record ClassWords(string Singular, string Classes, string Samples, IReadOnlyList<string> Names, bool IsMnist)
{
    /// <summary>MNIST's words: the default wherever no data is named.</summary>
    public static ClassWords Digits { get; } = new("digit", "digits", "digits", KnownDataset.Digits, true);

    /// <summary>The words for <paramref name="data"/>: MNIST's digits, else classes named as the data names them.</summary>
    public static ClassWords For(DatasetInfo data) =>
        data.Name == KnownDatasets.Mnist.Name ? Digits with { Names = data.ClassNames } : new("class", "classes", "images", data.ClassNames, false);

    /// <summary>"digit 3", or "class 5 (sandal)" when the name is not the index.</summary>
    public string Describe(int c)
    {
        string index = c.ToString(CultureInfo.InvariantCulture);
        return c < Names.Count && Names[c] != index ? $"{Singular} {index} ({Names[c]})" : $"{Singular} {index}";
    }
}
