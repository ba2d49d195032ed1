using LatentDiffusion.Server;

namespace LatentDiffusion.Tests.Server;

/// <summary>Several models folders served together: the first keeps its ids, the others' are prefixed by the folder's name.</summary>
public sealed class ModelSetTests
{
    [Fact]
    public void In_DefaultsToTheFolderOwnVaeAndClassifier()
    {
        ModelSet set = ModelSet.In("runs/flowers");
        Assert.Equal(Path.Combine("runs/flowers", "latent-vae.safetensors"), set.VaePath);
        Assert.Equal(Path.Combine("runs/flowers", "classifier.safetensors"), set.ClassifierPath);
        Assert.Equal("other.safetensors", ModelSet.In("runs/flowers", vaePath: "other.safetensors").VaePath);
    }

    [Fact]
    public void IdPrefix_FirstFolderNone_OthersTheirName()
    {
        Assert.Equal("", ModelSet.In("models").IdPrefix(0));
        Assert.Equal("fashion-mnist/", ModelSet.In("models/fashion-mnist/").IdPrefix(1));
        Assert.Equal("flowers/", ModelSet.In("runs/flowers").IdPrefix(2));
    }

    [Fact]
    public void Problem_NoneTwiceOrSameName_IsOneLine()
    {
        Assert.Null(ModelSet.Problem([ModelSet.In("models"), ModelSet.In("runs/fashion"), ModelSet.In("runs/flowers")]));
        Assert.Null(ModelSet.Problem([ModelSet.In("a/models"), ModelSet.In("b/models")]));              // the first has no prefix: no clash
        Assert.Equal("no models folder given", ModelSet.Problem([]));
        Assert.Equal("models folder models/ is given twice", ModelSet.Problem([ModelSet.In("models"), ModelSet.In("models/")]));
        Assert.Equal("models folders a/x and b/x are both called 'x', and a folder's name prefixes its model ids; rename or link one",
            ModelSet.Problem([ModelSet.In("models"), ModelSet.In("a/x"), ModelSet.In("b/x")]));
    }
}
