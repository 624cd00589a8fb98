using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Fixtures;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Tests.Storage;

public sealed class StorageRegistrationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task AConnectionStringGivesAnAzureBlobStoreThatReachesAzurite()
    {
        _ = azurite;
        var builder = TestHosts.Builder(("Storage:ConnectionString", AzuriteFixture.ConnectionString));
        builder.AddPipelineStorage();
        using var host = builder.Build();
        await host.StartAsync();
        var container = UniqueNames.For("reg");

        var store = host.Services.GetRequiredService<IBlobStore>();
        await store.CreateIfAbsentAsync(container, "hello.txt", BinaryData.FromString("hello"));

        Assert.IsType<AzureBlobStore>(store);
        Assert.Equal("hello", (await store.DownloadAsync(container, "hello.txt"))!.Content.ToString());
        await host.Services.GetRequiredService<BlobServiceClient>().DeleteBlobContainerAsync(container);
        await host.StopAsync();
    }

    [Fact]
    public void AServiceUriAndClientIdGiveAnIdentityClientForThatAccount()
    {
        var builder = TestHosts.Builder(
            ("Storage:blobServiceUri", "https://alexnetdata.blob.core.windows.net"),
            ("Storage:clientId", "00000000-0000-0000-0000-000000000001"));
        builder.AddPipelineStorage();
        using var host = builder.Build();

        var client = host.Services.GetRequiredService<BlobServiceClient>();

        Assert.Equal(new Uri("https://alexnetdata.blob.core.windows.net"), client.Uri);
        Assert.Equal("alexnetdata", client.AccountName);
        Assert.False(client.CanGenerateAccountSasUri); // no key: token credential
        Assert.IsType<AzureBlobStore>(host.Services.GetRequiredService<IBlobStore>());
    }

    [Fact]
    public void TheLocalBackendGivesAFolderStoreOnLocalRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "alexnet-registration", Guid.NewGuid().ToString("N"));
        var builder = TestHosts.Builder(("Storage:Backend", "local"), ("Storage:LocalRoot", root));
        builder.AddPipelineStorage();
        using var host = builder.Build();

        var store = Assert.IsType<LocalFolderBlobStore>(host.Services.GetRequiredService<IBlobStore>());

        Assert.Equal(root, store.RootPath);
    }

    [Fact]
    public async Task AMissingLocalRootFailsAtStartNamingTheSetting()
    {
        var builder = TestHosts.Builder(("Storage:Backend", "local"));
        builder.AddPipelineStorage();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Storage:LocalRoot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAzureBackendWithoutConnectionSettingsFailsAtStartNamingThem()
    {
        var builder = TestHosts.Builder();
        builder.AddPipelineStorage();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Storage:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:blobServiceUri", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOutOfRangeRetryCountFailsAtStartNamingTheSetting()
    {
        var builder = TestHosts.Builder(("Storage:ConnectionString", AzuriteFixture.ConnectionString), ("Storage:MaxRetries", "99"));
        builder.AddPipelineStorage();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Storage:MaxRetries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddingStorageTwiceRegistersItOnce()
    {
        var builder = TestHosts.Builder(("Storage:ConnectionString", AzuriteFixture.ConnectionString));
        builder.AddPipelineStorage();
        builder.AddPipelineStorage();

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IBlobStore));
        Assert.Single(builder.Services, d => d.ImplementationType == typeof(StorageOptionsValidator));
    }
}
