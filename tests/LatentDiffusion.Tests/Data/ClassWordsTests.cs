using LatentDiffusion.Data;

namespace LatentDiffusion.Tests.Data;

/// <summary>MNIST's classes are digits named by their index; any other set's are classes named as the data names them.</summary>
public sealed class ClassWordsTests
{
    static DatasetInfo Info(string name, IReadOnlyList<string> classes) => new(name, "/data", 1, 32, classes, new string('a', 64), "the IDX files");

    [Fact]
    public void For_Mnist_IsDigits()
    {
        ClassWords words = ClassWords.For(Info(KnownDatasets.Mnist.Name, KnownDataset.Digits));
        Assert.True(words.IsMnist);
        Assert.Equal(("digit", "digits", "digits"), (words.Singular, words.Classes, words.Samples));
        Assert.Equal("digit 3", words.Describe(3));
    }

    [Fact]
    public void For_OtherData_NamesItsClasses()
    {
        ClassWords words = ClassWords.For(Info("Fashion-MNIST", KnownDatasets.FashionMnist.ClassNames!));
        Assert.False(words.IsMnist);
        Assert.Equal(("class", "classes", "images"), (words.Singular, words.Classes, words.Samples));
        Assert.Equal("class 5 (sandal)", words.Describe(5));
        Assert.Equal("class 1", ClassWords.For(Info("folder", ["0", "1"])).Describe(1));   // a name that is its index is not repeated
    }
}
