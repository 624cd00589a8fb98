using System.Text.Json.Nodes;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Worker;

namespace AlexNet.Pipeline.Tests.Contracts;

/// <summary>
/// A label request carries one list of items. Messages and chunk request blobs written before items (parallel lists of
/// paths, ETags and record flags) may still be on the queue or in storage when a new worker starts: they read the same.
/// </summary>
public sealed class LabelRequestShapeTests
{
    [Fact]
    public void ARequestIsWrittenAsOneListOfItemsAndNoParallelLists()
    {
        var request = new LabelRequest("b", "c00000", "incoming", [new LabelItem("b/1.jpg", "\"e1\"", false), new LabelItem("b/2.jpg")], DateTimeOffset.UnixEpoch);

        JsonObject json = JsonNode.Parse(ContractSerializer.ToBinary(request).ToString())!.AsObject();

        Assert.False(json.ContainsKey("paths"));
        Assert.False(json.ContainsKey("eTags"));
        Assert.False(json.ContainsKey("recorded"));
        JsonArray items = json["items"]!.AsArray();
        Assert.Equal("""{"path":"b/1.jpg","eTag":"\u0022e1\u0022","hasRecord":false}""", items[0]!.ToJsonString());
        Assert.Equal("""{"path":"b/2.jpg"}""", items[1]!.ToJsonString());
    }

    [Fact]
    public void AMessageWrittenWithParallelListsReadsAsItems()
    {
        const string Body = """
            {"batch":"b","chunk":"c00000","container":"incoming","paths":["b/1.jpg","b/2.jpg"],"requestedAt":"2026-12-01T00:00:00+00:00",
             "eTags":["\"e1\"",""],"recorded":[false,true]}
            """;

        var (valid, error) = LabelRequestReader.Read(BinaryData.FromString(Body), CropMode.Center);

        Assert.Null(error);
        Assert.Equal([new LabelItem("b/1.jpg", "\"e1\"", false), new LabelItem("b/2.jpg", null, true)], valid!.Items);
        Assert.Null(valid.Request.LegacyPaths);
    }

    [Fact]
    public void ParallelListsOfTheWrongLengthAreIgnoredAsBefore()
    {
        Assert.Equal(
            [new LabelItem("a"), new LabelItem("b")],
            LabelItem.FromParallelLists(["a", "b"], ["\"only-one\""], [true]));
    }

    [Fact]
    public void ARequestWithNeitherItemsNorPathsOrWithANullItemIsPoison()
    {
        Assert.Contains("items", LabelRequestReader.Read(
            BinaryData.FromString("""{"batch":"b","chunk":"c1","container":"incoming","requestedAt":"2026-12-01T00:00:00+00:00"}"""), CropMode.Center).Error,
            StringComparison.Ordinal);
        Assert.Contains("null", LabelRequestReader.Read(
            BinaryData.FromString("""{"batch":"b","chunk":"c1","container":"incoming","items":[null],"requestedAt":"2026-12-01T00:00:00+00:00"}"""), CropMode.Center).Error,
            StringComparison.Ordinal);
        Assert.Contains("null", LabelRequestReader.Read(
            BinaryData.FromString("""{"batch":"b","chunk":"c1","container":"incoming","items":[{"eTag":"x"}],"requestedAt":"2026-12-01T00:00:00+00:00"}"""), CropMode.Center).Error,
            StringComparison.Ordinal);
    }

    [Fact]
    public void AChunkRequestBlobWrittenWithParallelListsReadsAsItemsAndIsTheSameChunkAsItsItemsForm()
    {
        const string Legacy = """{"batch":"b","chunk":"c00001","container":"incoming","paths":["b/1.jpg","b/2.jpg"],"eTags":["\"e1\"","\"e2\""],"recorded":[true,false]}""";

        ChunkRequestFile file = ChunkRequestFile.Parse(BinaryData.FromString(Legacy))!;

        Assert.Equal([new LabelItem("b/1.jpg", "\"e1\"", true), new LabelItem("b/2.jpg", "\"e2\"", false)], file.Items);
        ChunkRequestFile rewritten = ChunkRequestFile.Parse(BinaryData.FromBytes(file.ToUtf8Json()))!;
        Assert.Equal(file.Items, rewritten.Items);
        Assert.True(rewritten.SameImages(file));
        // Record flags are a hint: a listing that differs only in them is the same chunk; another ETag is not.
        Assert.True(file.SameImages(file with { Items = [.. file.Items.Select(i => i with { HasRecord = null })] }));
        Assert.False(file.SameImages(file with { Items = [file.Items[0], file.Items[1] with { ETag = "\"e3\"" }] }));
        Assert.DoesNotContain("paths", System.Text.Encoding.UTF8.GetString(file.ToUtf8Json()), StringComparison.Ordinal);
    }
}
