using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Tests.Storage;

/// <summary>The blob contract against Azurite, through the same SDK calls that run against Azure.</summary>
public sealed class AzureBlobStoreTests : BlobStoreContract, IClassFixture<AzuriteFixture>
{
    private readonly BlobServiceClient client = new(AzuriteFixture.ConnectionString);

    public AzureBlobStoreTests(AzuriteFixture azurite)
    {
        _ = azurite;
        Store = new AzureBlobStore(client, NullLogger<AzureBlobStore>.Instance);
    }

    protected override IBlobStore Store { get; }

    public override async Task DisposeAsync() => await client.GetBlobContainerClient(Container).DeleteIfExistsAsync();

    [Fact]
    public async Task SettingTagsKeepsTheETagAsAzureDoes()
    {
        await Store.CreateIfAbsentAsync(Container, "tagged.jpg", BinaryData.FromString("pixels"));
        string before = (await Store.GetEntryAsync(Container, "tagged.jpg"))!.ETag;

        await Store.SetTagsAsync(Container, "tagged.jpg", new Dictionary<string, string> { ["top1"] = "cat", ["model"] = "v1" });

        Assert.Equal(before, (await Store.GetEntryAsync(Container, "tagged.jpg"))!.ETag);
    }

    [Fact]
    public async Task TheFirstWriteCreatesTheContainer()
    {
        Assert.False(await client.GetBlobContainerClient(Container).ExistsAsync());

        await Store.CreateIfAbsentAsync(Container, "first.json", BinaryData.FromString("{}"));

        Assert.True(await client.GetBlobContainerClient(Container).ExistsAsync());
    }

    [Fact]
    public async Task ReadsDoNotCreateTheContainer()
    {
        Assert.Null(await Store.DownloadAsync(Container, "x.json"));
        Assert.Empty(await Store.ListAsync(Container).ToListAsync());

        Assert.False(await client.GetBlobContainerClient(Container).ExistsAsync());
    }

    [Fact]
    public async Task ReplacingABlobClearsItsTags()
    {
        await Store.UploadAsync(Container, "a.json", BinaryData.FromString("{}"));
        await Store.SetTagsAsync(Container, "a.json", new Dictionary<string, string> { ["run"] = Container });
        await Store.UploadAsync(Container, "a.json", BinaryData.FromString("{\"v\":2}"));

        Assert.Empty(await Store.FindByTagsAsync($"\"run\" = '{Container}'").ToListAsync());
    }

    [Fact]
    public async Task ContentTypeIsStored()
    {
        await Store.UploadAsync(Container, "a.json", BinaryData.FromString("{}"), "application/json");

        var properties = await client.GetBlobContainerClient(Container).GetBlobClient("a.json").GetPropertiesAsync();
        Assert.Equal("application/json", properties.Value.ContentType);
    }
}
