using LatentDiffusion.Server;

namespace LatentDiffusion.Tests.Server;

/// <summary>Several models folders served together: the first keeps its ids, the others' are prefixed by the folder's name.</summary>
public sealed class ServedFolderTests
{
    [Fact]
    public void In_DefaultsToTheFolderOwnVaeAndClassifier()
    {
        ServedFolder set = ServedFolder.In("runs/flowers");
        Assert.Equal(Path.Combine("runs/flowers", "latent-vae.safetensors"), set.VaePath);
        Assert.Equal(Path.Combine("runs/flowers", "classifier.safetensors"), set.ClassifierPath);
        Assert.Equal("other.safetensors", ServedFolder.In("runs/flowers", vaePath: "other.safetensors").VaePath);
    }

    [Fact]
    public void IdPrefix_FirstFolderNone_OthersTheirName()
    {
        Assert.Equal("", ServedFolder.In("models").IdPrefix(0));
        Assert.Equal("fashion-mnist/", ServedFolder.In("models/fashion-mnist/").IdPrefix(1));
        Assert.Equal("flowers/", ServedFolder.In("runs/flowers").IdPrefix(2));
    }

    [Fact]
    public void Problem_NoneTwiceOrSameName_IsOneLine()
    {
        Assert.Null(ServedFolder.Problem([ServedFolder.In("models"), ServedFolder.In("runs/fashion"), ServedFolder.In("runs/flowers")]));
        Assert.Null(ServedFolder.Problem([ServedFolder.In("a/models"), ServedFolder.In("b/models")]));              // the first has no prefix: no clash
        Assert.Equal("no models folder given", ServedFolder.Problem([]));
        Assert.Equal("models folder models/ is given twice", ServedFolder.Problem([ServedFolder.In("models"), ServedFolder.In("models/")]));
        Assert.Equal("models folders a/x and b/x are both called 'x', and a folder's name prefixes its model ids; rename or link one",
            ServedFolder.Problem([ServedFolder.In("models"), ServedFolder.In("a/x"), ServedFolder.In("b/x")]));
    }
}
