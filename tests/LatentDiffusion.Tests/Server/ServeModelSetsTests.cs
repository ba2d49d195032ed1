using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SkiaSharp;

namespace LatentDiffusion.Tests.Server;

/// <summary>One <c>ldm serve</c> over two models folders: <see cref="ServeModels"/>' MNIST set and a tiny RGB 64-px set of three colours.</summary>
public sealed class ServeModelSetsFixture : IDisposable
{
    readonly TempDirectory dir = new();

    public ServeModelSetsFixture()
    {
        string mnist = ServeModels.Create(dir);
        string colours = ServeModels.CreateRgb(dir, "colours");
        Server = ServeProcess.Start("--models", mnist, colours);
    }

    internal ServeProcess Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        dir.Dispose();
    }
}

/// <summary>Several folders, each with its own VAE, classifier and data: ids, the models' data, classes by name, colour images.</summary>
[Collection("Serve")]
public sealed class ServeModelSetsTests(ServeModelSetsFixture fixture) : IClassFixture<ServeModelSetsFixture>
{
    HttpClient Http => fixture.Server.Http;

    static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Models_FirstFolderKeepsItsIds_OthersArePrefixed_EachWithItsData()
    {
        JsonElement info = await Http.GetFromJsonAsync<JsonElement>("api/models");
        var models = info.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal(["diffusion", "misfit", "conditional", "colours/gray", "colours/conditional"], info.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        JsonElement mnist = models["conditional"];
        Assert.Equal("MNIST", mnist.GetProperty("dataset").GetString());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), mnist.GetProperty("class_names").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal((1, 32), (mnist.GetProperty("channels").GetInt32(), mnist.GetProperty("resolution").GetInt32()));
        JsonElement colours = models["colours/conditional"];
        Assert.Equal(JsonValueKind.Null, colours.GetProperty("problem").ValueKind);
        Assert.Equal("colours", colours.GetProperty("dataset").GetString());
        Assert.Equal(ServeModels.Colours, colours.GetProperty("class_names").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal((3, 64), (colours.GetProperty("channels").GetInt32(), colours.GetProperty("resolution").GetInt32()));
        Assert.Contains("trained on gray (1x64x64, 3 classes, sha256 000000000000) but the VAE ", models["colours/gray"].GetProperty("problem").GetString());
        Assert.Equal(["", "colours/"], info.GetProperty("folders").EnumerateArray().Select(f => f.GetProperty("id_prefix").GetString()));
    }

    [Fact]
    public async Task Generate_RgbClassByName_IsAColourGridReadByItsClassifier()
    {
        using HttpResponseMessage response = await Http.PostAsync("api/generate", Body("""{"model": "colours/conditional", "class": "GREEN", "steps": 2, "count": 3, "seed": 1}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, result.GetProperty("class").GetInt32());
        Assert.Equal("green", result.GetProperty("class_name").GetString());
        Assert.Equal("colours", result.GetProperty("dataset").GetString());
        Assert.All(result.GetProperty("digits").EnumerateArray(), d =>
        {
            Assert.Equal("green", d.GetProperty("requested_name").GetString());
            Assert.InRange(d.GetProperty("label").GetInt32(), 0, 2);
            Assert.Contains(d.GetProperty("label_name").GetString(), ServeModels.Colours);
        });
        byte[] png = Convert.FromBase64String(result.GetProperty("grid_png").GetString()!);
        using var bitmap = SKBitmap.Decode(png);
        Assert.True(bitmap.Width >= 3 * 64 && bitmap.Height > 64, $"grid {bitmap.Width}x{bitmap.Height}");
        bool coloured = false;
        for (int y = 0; y < bitmap.Height && !coloured; y++)
            for (int x = 0; x < bitmap.Width && !coloured; x++)
                coloured = bitmap.GetPixel(x, y) is var p && (p.Red != p.Green || p.Green != p.Blue);
        Assert.True(coloured, "the grid of an RGB model is in colour");
    }

    [Fact]
    public async Task Generate_RgbStream_FramesHaveTheFinalGridSize()
    {
        using HttpResponseMessage response = await ServerSentEvents.Post(Http, """{"model": "colours/conditional", "class": 2, "steps": 4, "count": 8, "seed": 3}""");
        var events = new List<(string Name, JsonElement Data)>();
        await foreach (var e in ServerSentEvents.Read(response)) events.Add(e);
        Assert.Equal("result", events[^1].Name);
        (int, int) final = Tests.Reports.ImageAssert.Size(Convert.FromBase64String(events[^1].Data.GetProperty("grid_png").GetString()!));
        var frames = events.Where(e => e.Name == "frame").ToList();
        Assert.NotEmpty(frames);
        Assert.All(frames, f => Assert.Equal(final, Tests.Reports.ImageAssert.Size(Convert.FromBase64String(f.Data.GetProperty("png").GetString()!))));
    }

    [Theory]
    [InlineData("""{"model": "colours/conditional", "class": "purple"}""", "unknown class 'purple' for model 'colours/conditional' (classes: red, green, blue)")]
    [InlineData("""{"model": "colours/conditional", "class": 3}""", "class must be an index 0-2 or a class name, or absent for a random class (got 3)")]
    [InlineData("""{"model": "colours/conditional", "class": 1, "digit": 1}""", "give class or digit, not both (class: an index or a name; digit: an index, MNIST's name for it)")]
    [InlineData("""{"model": "diffusion", "class": "red"}""", "model 'diffusion' is unconditional: it cannot be asked for a class")]
    public async Task Generate_BadClass_Is400WithOneLine(string json, string expected)
    {
        using HttpResponseMessage response = await Http.PostAsync("api/generate", Body(json));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Generate_MnistClassByName_IsTheDigit()
    {
        using HttpResponseMessage response = await Http.PostAsync("api/generate", Body("""{"model": "conditional", "class": "7", "steps": 2, "count": 2, "seed": 1}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(7, result.GetProperty("digit").GetInt32());
        Assert.All(result.GetProperty("digits").EnumerateArray(), d => Assert.Equal(7, d.GetProperty("requested").GetInt32()));
    }
}
