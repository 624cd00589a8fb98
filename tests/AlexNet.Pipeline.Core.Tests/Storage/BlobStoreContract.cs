using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Tests.Fixtures;

namespace AlexNet.Pipeline.Tests.Storage;

/// <summary>
/// What every <see cref="IBlobStore"/> promises, run against each backend by a subclass. Each test instance
/// works in its own container, so tests can run side by side on one account.
/// </summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected string Container { get; } = UniqueNames.For("blobs");

    protected abstract IBlobStore Store { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public abstract Task DisposeAsync();

    [ContractFact]
    public async Task CreateIfAbsentTwiceCreatesOnceAndKeepsTheFirstContent()
    {
        var first = await Store.CreateIfAbsentAsync(Container, "labels/cat.json", BinaryData.FromString("first"), "application/json");
        var second = await Store.CreateIfAbsentAsync(Container, "labels/cat.json", BinaryData.FromString("second"), "application/json");

        Assert.Equal(CreateOutcome.Created, first);
        Assert.Equal(CreateOutcome.AlreadyExists, second);
        var download = await Store.DownloadAsync(Container, "labels/cat.json");
        Assert.Equal("first", download!.Content.ToString());
    }

    [ContractFact]
    public async Task OnlyOneOfEightRacingCreatorsCreatesTheBlob()
    {
        // Dedicated threads released together, with content large enough that the writes overlap.
        var padding = new string('x', 512 * 1024);
        var outcomes = new CreateOutcome[8];
        using var start = new ManualResetEventSlim();
        var racers = Enumerable.Range(0, outcomes.Length)
            .Select(i => new Thread(() =>
            {
                start.Wait();
                outcomes[i] = Store.CreateIfAbsentAsync(Container, "race/winner.txt", BinaryData.FromString($"writer {i} {padding}")).GetAwaiter().GetResult();
            }))
            .ToList();
        racers.ForEach(t => t.Start());
        start.Set();
        racers.ForEach(t => t.Join());

        var winner = Array.IndexOf(outcomes, CreateOutcome.Created);
        Assert.Single(outcomes, o => o == CreateOutcome.Created);
        Assert.Equal(7, outcomes.Count(o => o == CreateOutcome.AlreadyExists));
        var download = await Store.DownloadAsync(Container, "race/winner.txt");
        Assert.Equal($"writer {winner} {padding}", download!.Content.ToString());
    }

    [ContractFact]
    public async Task ManyRoundsOfRacingCreatorsEachHaveOneWinner()
    {
        // Small blobs, so the writers reach the final step together: the folder store's check-then-rename (before it
        // hard-linked) gave two winners in 1-2 of these 200 rounds, every run.
        const int Rounds = 200;
        int doubleWinners = 0, noWinner = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var outcomes = new CreateOutcome[6];
            using var start = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, outcomes.Length)
                .Select(i => new Thread(() =>
                {
                    start.Wait();
                    outcomes[i] = Store.CreateIfAbsentAsync(Container, $"rounds/{round}.json", BinaryData.FromString($"{i}")).GetAwaiter().GetResult();
                }))
                .ToList();
            racers.ForEach(t => t.Start());
            start.Set();
            racers.ForEach(t => t.Join());
            int created = outcomes.Count(o => o == CreateOutcome.Created);
            doubleWinners += created > 1 ? 1 : 0;
            noWinner += created == 0 ? 1 : 0;
        }

        Assert.Equal((0, 0), (doubleWinners, noWinner));
        Assert.Equal(Rounds, await Store.ListAsync(Container, "rounds/").CountAsync());
    }

    [ContractFact]
    public async Task UploadWithTheCurrentETagReplacesTheBlobAndAStaleETagConflicts()
    {
        var original = await Store.UploadAsync(Container, "models/current.json", BinaryData.FromString("v1"));
        var entry = await Store.GetEntryAsync(Container, "models/current.json");
        Assert.Equal(original, entry!.ETag);

        var replaced = await Store.UploadAsync(Container, "models/current.json", BinaryData.FromString("v2"), ifMatchETag: original);
        Assert.NotEqual(original, replaced);

        // Same length as v2, so only the ETag tells the versions apart.
        var conflict = await Assert.ThrowsAsync<BlobConflictException>(
            () => Store.UploadAsync(Container, "models/current.json", BinaryData.FromString("v3"), ifMatchETag: original));
        Assert.Equal("models/current.json", conflict.Name);

        var download = await Store.DownloadAsync(Container, "models/current.json");
        Assert.Equal("v2", download!.Content.ToString());
        Assert.Equal(replaced, download.Entry.ETag);
    }

    [ContractFact]
    public async Task UploadWithAnETagConflictsWhenTheBlobIsMissing()
    {
        await Assert.ThrowsAsync<BlobConflictException>(
            () => Store.UploadAsync(Container, "missing.json", BinaryData.FromString("x"), ifMatchETag: "\"0x1\""));
        Assert.Null(await Store.GetEntryAsync(Container, "missing.json"));
    }

    [ContractFact]
    public async Task UnconditionalUploadReplacesTheBlobAndReturnsItsETag()
    {
        await Store.UploadAsync(Container, "runs/metrics.json", BinaryData.FromString("{\"step\":1}"));
        var etag = await Store.UploadAsync(Container, "runs/metrics.json", BinaryData.FromString("{\"step\":22}"));

        var download = await Store.DownloadAsync(Container, "runs/metrics.json");
        Assert.Equal("{\"step\":22}", download!.Content.ToString());
        Assert.Equal(etag, download.Entry.ETag);
        Assert.Equal(11, download.Entry.Size);
    }

    [ContractFact]
    public async Task AStreamedUploadLargerThanABlockArrivesWholeAndReplacesTheBlob()
    {
        await Store.UploadAsync(Container, "report/labels.jsonl", BinaryData.FromString("old"));
        // 9 MiB written in 64 KiB pieces: more than two of the Azure store's 4 MiB blocks, the last one partial.
        var piece = new byte[64 * 1024];
        int pieces = 9 * 16;
        var expected = new MemoryStream();
        await Store.UploadStreamingAsync(Container, "report/labels.jsonl", async (stream, token) =>
        {
            expected.SetLength(0);
            for (int i = 0; i < pieces; i++)
            {
                Array.Fill(piece, (byte)('a' + i % 26));
                await stream.WriteAsync(piece, token);
                expected.Write(piece);
            }
        }, "application/x-ndjson");

        var download = await Store.DownloadAsync(Container, "report/labels.jsonl");
        Assert.Equal(pieces * piece.Length, download!.Entry.Size);
        Assert.True(expected.ToArray().AsSpan().SequenceEqual(download.Content.ToMemory().Span), "the streamed blob differs from what was written");
    }

    [ContractFact]
    public async Task AStreamedUploadThatFailsLeavesTheEarlierBlob()
    {
        await Store.UploadAsync(Container, "report/summary.json", BinaryData.FromString("earlier"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.UploadStreamingAsync(Container, "report/summary.json", async (stream, token) =>
        {
            await stream.WriteAsync(new byte[1000], token);
            throw new InvalidOperationException("the writer failed");
        }));

        Assert.Equal("earlier", (await Store.DownloadAsync(Container, "report/summary.json"))!.Content.ToString());
    }

    [ContractFact]
    public async Task ListByPrefixReturnsExactlyTheNestedBlobsUnderIt()
    {
        string[] names = ["a/1.jpg", "a/deep/er/2.jpg", "a.txt", "ab/3.jpg", "b/4.jpg"];
        foreach (var name in names)
        {
            await Store.UploadAsync(Container, name, BinaryData.FromString(name));
        }

        var underA = await Store.ListAsync(Container, "a/").ToListAsync();
        var startingWithA = await Store.ListAsync(Container, "a").ToListAsync();
        var deep = await Store.ListAsync(Container, "a/deep/e").ToListAsync();
        var all = await Store.ListAsync(Container).ToListAsync();
        var none = await Store.ListAsync(Container, "c/").ToListAsync();

        Assert.Equal(["a/1.jpg", "a/deep/er/2.jpg"], underA.Select(e => e.Name));
        Assert.Equal(["a.txt", "a/1.jpg", "a/deep/er/2.jpg", "ab/3.jpg"], startingWithA.Select(e => e.Name));
        Assert.Equal(["a/deep/er/2.jpg"], deep.Select(e => e.Name));
        Assert.Equal(names.Order(StringComparer.Ordinal), all.Select(e => e.Name));
        Assert.Empty(none);

        var listed = all.Single(e => e.Name == "ab/3.jpg");
        Assert.Equal(Container, listed.Container);
        Assert.Equal("ab/3.jpg".Length, listed.Size);
        Assert.Equal((await Store.GetEntryAsync(Container, "ab/3.jpg"))!.ETag, listed.ETag);
    }

    [ContractFact]
    public async Task TheTopLevelListingGivesEachFolderOnceAndEachBlobOutsideAnyFolder()
    {
        string[] names = ["a/1.jpg", "a/deep/er/2.jpg", "a.txt", "ab/3.jpg", "b/4.jpg", "c.png"];
        foreach (var name in names)
        {
            await Store.UploadAsync(Container, name, BinaryData.FromString(name));
        }

        var items = await Store.ListTopLevelAsync(Container).ToListAsync();

        // Azurite lists the folders first; the folder store and the counting store in name order.
        Assert.Equal(["a.txt", "a/", "ab/", "b/", "c.png"], items.Select(i => i.Folder ?? i.Blob!.Name).Order(StringComparer.Ordinal));
        var top = items.Single(i => i.Blob?.Name == "c.png").Blob!;
        Assert.Equal((await Store.GetEntryAsync(Container, "c.png"))!.ETag, top.ETag);
        Assert.All(items, i => Assert.True(i.Folder is null != i.Blob is null));
        Assert.Empty(await Store.ListTopLevelAsync(UniqueNames.For("absent")).ToListAsync());
    }

    [ContractFact]
    public async Task ListOfAContainerThatDoesNotExistIsEmpty()
    {
        Assert.Empty(await Store.ListAsync(UniqueNames.For("absent")).ToListAsync());
    }

    [ContractFact]
    public async Task DownloadReturnsNullForMissingBlob()
    {
        await Store.UploadAsync(Container, "present.txt", BinaryData.FromString("here"));

        Assert.Null(await Store.DownloadAsync(Container, "absent.txt"));
        Assert.Null(await Store.DownloadAsync(UniqueNames.For("absent"), "absent.txt"));
        Assert.Null(await Store.GetEntryAsync(Container, "absent.txt"));
    }

    [ContractFact]
    public async Task DownloadReturnsTheContentWithItsEntry()
    {
        var bytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31)).ToArray();
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        var etag = await Store.UploadAsync(Container, "incoming/batch-1/photo.jpg", BinaryData.FromBytes(bytes), "image/jpeg");

        var download = await Store.DownloadAsync(Container, "incoming/batch-1/photo.jpg");

        Assert.Equal(bytes, download!.Content.ToArray());
        Assert.Equal(new BlobEntry(Container, "incoming/batch-1/photo.jpg", bytes.Length, etag, download.Entry.LastModified), download.Entry);
        Assert.InRange(download.Entry.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(download.Entry, await Store.GetEntryAsync(Container, "incoming/batch-1/photo.jpg"));
    }

    [ContractFact]
    public async Task OpenReadGivesTheSizeFirstReadsOnlyTheVersionAskedForAndNoMoreThanTheLimitPlusOne()
    {
        string etag = await Store.UploadAsync(Container, "in/big.bin", BinaryData.FromBytes(new byte[10_000]));

        await using (BlobReader reader = (await Store.OpenReadAsync(Container, "in/big.bin", etag, maxBytes: 100))!)
        {
            Assert.Equal((10_000L, etag), (reader.Entry.Size, reader.Entry.ETag));
            byte[] buffer = new byte[20_000];
            int total = 0;
            int read;
            while ((read = await reader.Content.ReadAsync(buffer.AsMemory(total))) > 0)
                total += read;
            Assert.InRange(total, 0, 10_000);
        }

        await using (BlobReader whole = (await Store.OpenReadAsync(Container, "in/big.bin", etag, maxBytes: 10_000))!)
            Assert.Equal(10_000, (await whole.ReadAllAsync()).ToMemory().Length);
        await using (BlobReader empty = (await Store.OpenReadAsync(Container, "in/empty.bin", await Store.UploadAsync(Container, "in/empty.bin", BinaryData.Empty), 100))!)
            Assert.Equal(0, (await empty.ReadAllAsync()).ToMemory().Length);
        await Store.UploadAsync(Container, "in/big.bin", BinaryData.FromString("replaced"));
        await Assert.ThrowsAsync<BlobConflictException>(() => Store.OpenReadAsync(Container, "in/big.bin", etag, 100));
        Assert.Null(await Store.OpenReadAsync(Container, "in/missing.bin", null, 100));
    }

    [ContractFact]
    public async Task DeleteRemovesTheBlobAndSaysWhetherThereWasOne()
    {
        await Store.UploadAsync(Container, "rejected/x.json", BinaryData.FromString("{}"));

        Assert.True(await Store.DeleteAsync(Container, "rejected/x.json"));
        Assert.False(await Store.DeleteAsync(Container, "rejected/x.json"));
        Assert.Null(await Store.GetEntryAsync(Container, "rejected/x.json"));
        Assert.Equal(CreateOutcome.Created, await Store.CreateIfAbsentAsync(Container, "rejected/x.json", BinaryData.FromString("again")));
    }

    [ContractFact]
    public async Task TaggedBlobsAreFoundByATagQuery()
    {
        // The query spans the whole account, so a tag value unique to this test keeps other tests' blobs out.
        var run = Container;
        await Store.UploadAsync(Container, "labels/1.json", BinaryData.FromString("1"));
        await Store.UploadAsync(Container, "labels/2.json", BinaryData.FromString("2"));
        await Store.UploadAsync(Container, "labels/3.json", BinaryData.FromString("3"));
        await Store.SetTagsAsync(Container, "labels/1.json", new Dictionary<string, string> { ["run"] = run, ["top1"] = "cat", ["model"] = "v3" });
        await Store.SetTagsAsync(Container, "labels/2.json", new Dictionary<string, string> { ["run"] = run, ["top1"] = "cat", ["model"] = "v2" });
        await Store.SetTagsAsync(Container, "labels/3.json", new Dictionary<string, string> { ["run"] = run, ["top1"] = "dog", ["model"] = "v3" });

        var cats = await Store.FindByTagsAsync($"\"run\" = '{run}' AND \"top1\" = 'cat' AND \"model\" = 'v3'").ToListAsync();
        var v3 = await Store.FindByTagsAsync($"@container = '{Container}' AND \"run\" = '{run}' AND \"model\" >= 'v3'").ToListAsync();

        var cat = Assert.Single(cats);
        Assert.Equal((await Store.GetEntryAsync(Container, "labels/1.json"))!, cat);
        Assert.Equal(["labels/1.json", "labels/3.json"], v3.Select(e => e.Name).Order(StringComparer.Ordinal));
    }

    [ContractFact]
    public async Task SetTagsReplacesTheEarlierTags()
    {
        var run = Container;
        await Store.UploadAsync(Container, "img.json", BinaryData.FromString("{}"));
        await Store.SetTagsAsync(Container, "img.json", new Dictionary<string, string> { ["run"] = run, ["top1"] = "cat" });
        await Store.SetTagsAsync(Container, "img.json", new Dictionary<string, string> { ["run"] = run, ["top1"] = "dog" });

        Assert.Empty(await Store.FindByTagsAsync($"\"run\" = '{run}' AND \"top1\" = 'cat'").ToListAsync());
        Assert.Single(await Store.FindByTagsAsync($"\"run\" = '{run}' AND \"top1\" = 'dog'").ToListAsync());
    }

    [ContractFact]
    public async Task DeletedBlobsAreNotFoundByTags()
    {
        var run = Container;
        await Store.UploadAsync(Container, "gone.json", BinaryData.FromString("{}"));
        await Store.SetTagsAsync(Container, "gone.json", new Dictionary<string, string> { ["run"] = run });
        await Store.DeleteAsync(Container, "gone.json");

        Assert.Empty(await Store.FindByTagsAsync($"\"run\" = '{run}'").ToListAsync());
    }

    [ContractFact]
    public async Task SetTagsOnAMissingBlobThrowsBlobNotFound()
    {
        await Store.UploadAsync(Container, "present.json", BinaryData.FromString("{}"));

        await Assert.ThrowsAsync<BlobNotFoundException>(
            () => Store.SetTagsAsync(Container, "absent.json", new Dictionary<string, string> { ["k"] = "v" }));
    }

    [ContractFact]
    public async Task MetadataGivenToACreateIsListedWithTheBlobOnlyWhenAskedFor()
    {
        // An Azure ETag as the pipeline keeps it, quotes included: a plain ASCII header value.
        const string etag = "\"0x8DC1F2A3B4C5D6E\"";
        Assert.Equal(CreateOutcome.Created, await Store.CreateIfAbsentAsync(Container, "records/a.json", BinaryData.FromString("a"), "application/json", new Dictionary<string, string> { ["imageetag"] = etag }));
        Assert.Equal(CreateOutcome.Created, await Store.CreateIfAbsentAsync(Container, "records/b.json", BinaryData.FromString("b"), "application/json"));
        // A create that finds the blob leaves its metadata as it was.
        Assert.Equal(CreateOutcome.AlreadyExists, await Store.CreateIfAbsentAsync(Container, "records/a.json", BinaryData.FromString("x"), null, new Dictionary<string, string> { ["imageetag"] = "\"other\"" }));

        var listed = await Store.ListAsync(Container, "records/", includeMetadata: true).ToListAsync();
        var plain = await Store.ListAsync(Container, "records/").ToListAsync();

        Assert.Equal(["records/a.json", "records/b.json"], listed.Select(e => e.Name));
        Assert.Equal(etag, listed[0].Metadata!["imageetag"]);
        Assert.Equal(etag, listed[0].Metadata!["ImageETag"]); // names compare without case, as Azure's do
        Assert.Single(listed[0].Metadata!);
        Assert.Empty(listed[1].Metadata!);
        Assert.All(plain, e => Assert.Null(e.Metadata));
        Assert.Equal(plain.Select(e => (e.Name, e.ETag, e.Size, e.LastModified)), listed.Select(e => (e.Name, e.ETag, e.Size, e.LastModified)));
        Assert.Equal(etag, (await Store.GetMetadataAsync(Container, "records/a.json"))!["imageetag"]);
    }

    [ContractFact]
    public async Task ANewVersionOfABlobStartsWithoutTheMetadataOfTheOneBefore()
    {
        var metadata = new Dictionary<string, string> { ["imageetag"] = "\"v1\"" };
        await Store.CreateIfAbsentAsync(Container, "records/replaced.json", BinaryData.FromString("1"), "application/json", metadata);
        await Store.CreateIfAbsentAsync(Container, "records/recreated.json", BinaryData.FromString("1"), "application/json", metadata);

        await Store.UploadAsync(Container, "records/replaced.json", BinaryData.FromString("2"));
        Assert.True(await Store.DeleteAsync(Container, "records/recreated.json"));
        Assert.Equal(CreateOutcome.Created, await Store.CreateIfAbsentAsync(Container, "records/recreated.json", BinaryData.FromString("2")));

        var listed = await Store.ListAsync(Container, "records/", includeMetadata: true).ToListAsync();
        Assert.Equal(["records/recreated.json", "records/replaced.json"], listed.Select(e => e.Name));
        Assert.All(listed, e => Assert.Empty(e.Metadata!));
    }
}
