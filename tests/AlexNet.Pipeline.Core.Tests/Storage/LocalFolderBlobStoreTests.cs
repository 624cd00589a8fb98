using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Tests.Storage;

public sealed class LocalFolderBlobStoreTests : BlobStoreContract
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "alexnet-blobstore-tests", Guid.NewGuid().ToString("N"));
    private readonly LocalFolderBlobStore store;

    public LocalFolderBlobStoreTests()
    {
        store = new LocalFolderBlobStore(root);
    }

    protected override IBlobStore Store => store;

    public override Task DisposeAsync()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task BlobsAreFilesUnderRootContainerAndNameWithFolders()
    {
        await store.UploadAsync(Container, "incoming/batch-7/cat.jpg", BinaryData.FromString("jpeg"));

        var path = Path.Combine(root, Container, "incoming", "batch-7", "cat.jpg");
        Assert.Equal("jpeg", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task FilesDroppedIntoTheFolderAreBlobs()
    {
        Directory.CreateDirectory(Path.Combine(root, Container, "incoming"));
        await File.WriteAllTextAsync(Path.Combine(root, Container, "incoming", "dropped.png"), "png");

        var entry = Assert.Single(await store.ListAsync(Container).ToListAsync());
        Assert.Equal("incoming/dropped.png", entry.Name);
        Assert.Equal("png", (await store.DownloadAsync(Container, "incoming/dropped.png"))!.Content.ToString());
    }

    [Fact]
    public async Task BookkeepingFilesStayOutOfListings()
    {
        await store.UploadAsync(Container, "a.json", BinaryData.FromString("{}"));
        await store.SetTagsAsync(Container, "a.json", new Dictionary<string, string> { ["k"] = "v" });

        Assert.Equal(["a.json"], (await store.ListAsync(Container).ToListAsync()).Select(e => e.Name));
        Assert.Equal([Container, ".blobstore"], Directory.GetDirectories(root).Select(Path.GetFileName).OrderDescending(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(root, ".blobstore", "tmp")));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("a/../../escape.txt")]
    [InlineData("a/./b.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b.txt")]
    [InlineData("a\\b.txt")]
    [InlineData("")]
    public async Task NamesThatLeaveTheContainerAreRefused(string name)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UploadAsync(Container, name, BinaryData.FromString("x")));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.DownloadAsync(Container, name));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(root)!, "escape.txt")));
    }

    [Fact]
    public async Task APrefixCannotListOutsideTheContainer()
    {
        var other = Container + "-other";
        await store.UploadAsync(other, "secret.txt", BinaryData.FromString("x"));
        await store.UploadAsync(Container, "a/b.txt", BinaryData.FromString("x"));
        await store.SetTagsAsync(Container, "a/b.txt", new Dictionary<string, string> { ["k"] = "v" });

        Assert.Empty(await store.ListAsync(Container, $"../{other}/").ToListAsync());
        Assert.Empty(await store.ListAsync(Container, "../.blobstore/").ToListAsync());
        Assert.Empty(await store.ListAsync(Container, "a/../../").ToListAsync());
    }

    [Fact]
    public async Task AFolderOfBlobsIsNotABlob()
    {
        await store.UploadAsync(Container, "a/b.txt", BinaryData.FromString("x"));

        Assert.Null(await store.GetEntryAsync(Container, "a"));
        Assert.Null(await store.DownloadAsync(Container, "a"));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".blobstore")]
    [InlineData("Upper")]
    [InlineData("a")]
    [InlineData("double--hyphen")]
    public async Task InvalidContainerNamesAreRefused(string container)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => store.UploadAsync(container, "x.txt", BinaryData.FromString("x")));
    }

    [Fact]
    public async Task TagsBeyondAzureLimitsAreRefused()
    {
        await store.UploadAsync(Container, "a.json", BinaryData.FromString("{}"));
        var eleven = Enumerable.Range(0, 11).ToDictionary(i => $"k{i}", i => "v");

        await Assert.ThrowsAsync<ArgumentException>(() => store.SetTagsAsync(Container, "a.json", eleven));
        await Assert.ThrowsAsync<ArgumentException>(
            () => store.SetTagsAsync(Container, "a.json", new Dictionary<string, string> { ["bad'quote"] = "v" }));
    }

    [Fact]
    public async Task ReplacingABlobClearsItsTagsAsAzureDoes()
    {
        await store.UploadAsync(Container, "a.json", BinaryData.FromString("{}"));
        await store.SetTagsAsync(Container, "a.json", new Dictionary<string, string> { ["run"] = Container });
        await store.UploadAsync(Container, "a.json", BinaryData.FromString("{\"v\":2}"));

        Assert.Empty(await store.FindByTagsAsync($"\"run\" = '{Container}'").ToListAsync());
    }

    [Fact]
    public async Task ConcurrentConditionalReplacesLetExactlyOneWin()
    {
        var etag = await store.UploadAsync(Container, "ledger.json", BinaryData.FromString("00"));
        var padding = new string('x', 256 * 1024);
        var won = new bool[8];
        using var start = new ManualResetEventSlim();
        var writers = Enumerable.Range(0, won.Length)
            .Select(i => new Thread(() =>
            {
                start.Wait();
                try
                {
                    store.UploadAsync(Container, "ledger.json", BinaryData.FromString($"{i}{padding}"), ifMatchETag: etag).GetAwaiter().GetResult();
                    won[i] = true;
                }
                catch (BlobConflictException)
                {
                }
            }))
            .ToList();
        writers.ForEach(t => t.Start());
        start.Set();
        writers.ForEach(t => t.Join());

        var winner = Assert.Single(Enumerable.Range(0, won.Length), i => won[i]);
        Assert.Equal($"{winner}{padding}", (await store.DownloadAsync(Container, "ledger.json"))!.Content.ToString());
    }
}
