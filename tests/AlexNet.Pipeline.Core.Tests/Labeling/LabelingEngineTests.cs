using System.Text.Json;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;

namespace AlexNet.Pipeline.Tests.Labeling;

public sealed class LabelingEngineTests : IDisposable
{
    private readonly string images = LabelingFixture.ImageFolder(good: 12, withBadFiles: true);
    private readonly string output = Path.Combine(Path.GetTempPath(), $"alexnet-out-{Guid.NewGuid():N}");
    private readonly LocalFolderBlobStore store;
    private readonly Classifier classifier = new(LabelingFixture.Package());

    public LabelingEngineTests() => store = new LocalFolderBlobStore(output);

    [Fact]
    public async Task EveryGoodImageGetsARecordAndEveryBadOneARejectionWithItsReason()
    {
        var run = await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));

        Assert.Equal(16, run.Statistics.Seen);
        Assert.Equal(12, run.Statistics.Labeled);
        Assert.Equal(4, run.Statistics.Rejected);
        Assert.Equal(0, run.Statistics.Failed);
        var records = await LabelingFixture.ListAsync(store, LabelPaths.LabelsContainer, "photos/");
        Assert.Equal(12, records.Count(n => n.EndsWith(".jpg.json", StringComparison.Ordinal)));
        var rejected = await LabelingFixture.ListAsync(store, LabelPaths.RejectedContainer, "photos/");
        Assert.Equal(LabelingFixture.BadFiles.Select(f => $"photos/{f}.json").Order(), rejected.Order());

        var bomb = await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, "photos/bomb.png.json");
        Assert.Contains("20000", bomb.Reason, StringComparison.Ordinal);
        var text = await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, "photos/notes.jpg.json");
        Assert.Equal("UnsupportedFormat", text.Code);
    }

    [Fact]
    public async Task EveryRecordIsCreatedWithTheETagOfTheImageItCoversInItsMetadata()
    {
        await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));

        var labels = await store.ListAsync(LabelPaths.LabelsContainer, "photos/", includeMetadata: true)
            .Where(e => e.Name.EndsWith(".jpg.json", StringComparison.Ordinal)).ToListAsync();
        var rejected = await store.ListAsync(LabelPaths.RejectedContainer, "photos/", includeMetadata: true).ToListAsync();
        Assert.Equal(12, labels.Count);
        Assert.Equal(LabelingFixture.BadFiles.Length, rejected.Count);
        foreach (BlobEntry entry in labels)
        {
            var record = await ReadAsync<LabelRecord>(LabelPaths.LabelsContainer, entry.Name);
            Assert.False(string.IsNullOrEmpty(record.Image.ETag), entry.Name);
            Assert.Equal(record.Image.ETag, entry.Metadata![LabelPaths.ImageETagMetadata]);
        }
        foreach (BlobEntry entry in rejected)
        {
            var record = await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, entry.Name);
            Assert.False(string.IsNullOrEmpty(record.Image.ETag), entry.Name);
            Assert.Equal(record.Image.ETag, entry.Metadata![LabelPaths.ImageETagMetadata]);
        }
    }

    [Fact]
    public async Task RecordsCarryTheImageIdentityModelAndSortedTopFive()
    {
        await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));

        var record = await ReadAsync<LabelRecord>(LabelPaths.LabelsContainer, "photos/a/photo-000.jpg.json");
        byte[] bytes = File.ReadAllBytes(Path.Combine(images, "a", "photo-000.jpg"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), record.Image.Sha256);
        Assert.Equal("a/photo-000.jpg", record.Image.Path);
        Assert.Equal("v1", record.Model.Version);
        Assert.Equal(classifier.Manifest.WeightsSha256, record.Model.WeightsSha256);
        Assert.Equal("center", record.CropMode);
        Assert.Equal(5, record.Top5.Count);
        Assert.True(record.Top5.Zip(record.Top5.Skip(1)).All(p => p.First.Probability >= p.Second.Probability));
        Assert.All(record.Top5, s => Assert.Equal(TestModels.Classes[s.Index], s.Label));
        Assert.InRange(record.Top5.Sum(s => s.Probability), 0.0, 1.0001);
    }

    [Fact]
    public async Task RunningAgainOnTheSameImagesAndModelWritesNothingNew()
    {
        var engine = LabelingFixture.Engine(classifier, store);
        await engine.RunAsync("photos", new FolderImageSource(images));
        var before = await SnapshotAsync("photos/");

        var again = await engine.RunAsync("photos", new FolderImageSource(images));

        Assert.Equal(0, again.Statistics.Labeled);
        Assert.Equal(12, again.Statistics.AlreadyLabeled);
        Assert.Equal(before, await SnapshotAsync("photos/"));
    }

    [Fact]
    public async Task AChangedImageOrANewModelGivesANewRecord()
    {
        await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));
        File.WriteAllBytes(Path.Combine(images, "a", "photo-000.jpg"), AlexNet.Testing.SampleImages.PhotoJpeg(120, 90, seed: 555));

        var changed = await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));
        using var newModel = new Classifier(LabelingFixture.Package("v2", seed: 9));
        var retrained = await LabelingFixture.Engine(newModel, store).RunAsync("photos", new FolderImageSource(images));

        Assert.Equal(1, changed.Statistics.Labeled);
        Assert.Equal(11, changed.Statistics.AlreadyLabeled);
        Assert.Equal(12, retrained.Statistics.Labeled);
        var record = await ReadAsync<LabelRecord>(LabelPaths.LabelsContainer, "photos/b/photo-001.jpg.json");
        Assert.Equal("v2", record.Model.Version);
    }

    [Fact]
    public async Task TheSameBytesUploadedAgainAreAlreadyLabeledAndTheRecordNotesTheNewETag()
    {
        await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));
        string file = Path.Combine(images, "a", "photo-000.jpg");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(5));
        string newETag = (await new FolderImageSource(images).ListAsync().FirstAsync(i => i.Path == "a/photo-000.jpg")).ETag;

        var again = await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));

        Assert.Equal(0, again.Statistics.Labeled);
        Assert.Equal(12, again.Statistics.AlreadyLabeled);
        var record = await ReadAsync<LabelRecord>(LabelPaths.LabelsContainer, "photos/a/photo-000.jpg.json");
        Assert.Equal(newETag, record.Image.ETag);
    }

    [Fact]
    public async Task TheSameBrokenBytesUploadedAgainGetTheirRejectedRecordMovedToTheNewETag()
    {
        await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));
        var before = await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, "photos/notes.jpg.json");
        File.SetLastWriteTimeUtc(Path.Combine(images, "notes.jpg"), DateTime.UtcNow.AddMinutes(5));
        string newETag = (await new FolderImageSource(images).ListAsync().FirstAsync(i => i.Path == "notes.jpg")).ETag;
        Assert.NotEqual(before.Image.ETag, newETag);

        var again = await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));

        Assert.Equal(4, again.Statistics.Rejected);
        var after = await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, "photos/notes.jpg.json");
        Assert.Equal(newETag, after.Image.ETag);
        Assert.Equal((before.Image.Sha256, before.Code), (after.Image.Sha256, after.Code));
        var untouched = await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, "photos/bomb.png.json");
        var first = await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));
        Assert.Equal(untouched, await ReadAsync<RejectedRecord>(LabelPaths.RejectedContainer, "photos/bomb.png.json"));
        Assert.Equal(4, first.Statistics.Rejected);
    }

    [Fact]
    public async Task CancellingMidwayAndRunningAgainFinishesWithEachImageLabeledOnce()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new Progress(p => { if (p.Seen >= 5) cancel.Cancel(); });
        var engine = LabelingFixture.Engine(classifier, store, new LabelingOptions { BatchSize = 2, DecodeParallelism = 1 });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.RunAsync("photos", new FolderImageSource(images), progress: progress, cancellationToken: cancel.Token));
        var first = (await LabelingFixture.ListAsync(store, LabelPaths.LabelsContainer, "photos/")).Count;
        var resumed = await engine.RunAsync("photos", new FolderImageSource(images));

        Assert.InRange(first, 0, 11);
        Assert.Equal(12, resumed.Statistics.Labeled + resumed.Statistics.AlreadyLabeled);
        Assert.Equal(first, resumed.Statistics.AlreadyLabeled);
        Assert.Equal(12, (await LabelingFixture.ListAsync(store, LabelPaths.LabelsContainer, "photos/")).Count);
    }

    [Fact]
    public async Task TwoRunsRacingOnTheSameImagesLabelEachImageOnce()
    {
        using var second = new Classifier(LabelingFixture.Package());
        var a = LabelingFixture.Engine(classifier, store, new LabelingOptions { BatchSize = 3 });
        var b = LabelingFixture.Engine(second, store, new LabelingOptions { BatchSize = 5 });

        var runs = await Task.WhenAll(
            a.RunAsync("photos", new FolderImageSource(images)),
            b.RunAsync("photos", new FolderImageSource(images)));

        Assert.Equal(12, runs.Sum(r => r.Statistics.Labeled));
        Assert.Equal(12, runs.Sum(r => r.Statistics.AlreadyLabeled));
        Assert.Equal(12, (await LabelingFixture.ListAsync(store, LabelPaths.LabelsContainer, "photos/")).Count);
    }

    [Fact]
    public async Task BatchReportListsEveryRecordAndFlagsLowConfidenceForReview()
    {
        var run = await LabelingFixture.Engine(classifier, store).RunAsync("photos", new FolderImageSource(images));

        var summary = await new BatchReport(store, TimeProvider.System).WriteAsync("photos", minConfidence: 1.0, run.Statistics);

        Assert.Equal(16, summary.Images);
        Assert.Equal(12, summary.Labeled);
        Assert.Equal(4, summary.Rejected);
        Assert.Equal(12, summary.NeedsReview);
        Assert.Equal(12, summary.ConfidenceHistogram.Sum());
        Assert.Equal(12, summary.Top1Distribution.Values.Sum());
        string jsonl = (await store.DownloadAsync(LabelPaths.LabelsContainer, "photos/labels.jsonl"))!.Content.ToString();
        Assert.Equal(12, jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        string csv = (await store.DownloadAsync(LabelPaths.LabelsContainer, "photos/labels.csv"))!.Content.ToString();
        Assert.StartsWith("path,etag,sha256,model,crop,label1,probability1", csv, StringComparison.Ordinal);
        Assert.Equal(13, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        string review = (await store.DownloadAsync(LabelPaths.LabelsContainer, "photos/review.jsonl"))!.Content.ToString();
        Assert.Equal(12, review.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task LabeledBlobsAreTaggedSoOneTagQueryFindsEveryImageOfAClass()
    {
        foreach (string file in Directory.GetFiles(images, "*.jpg", SearchOption.AllDirectories).Where(f => f.Contains("photo-", StringComparison.Ordinal)))
            await store.CreateIfAbsentAsync("incoming", "shoot/" + Path.GetRelativePath(images, file).Replace('\\', '/'), BinaryData.FromBytes(File.ReadAllBytes(file)));
        var source = new BlobImageSource(store, "incoming", "shoot/");

        await LabelingFixture.Engine(classifier, store, new LabelingOptions { BatchSize = 4, TagSourceImages = true }).RunAsync("shoot", source);

        var record = await ReadAsync<LabelRecord>(LabelPaths.LabelsContainer, "shoot/a/photo-000.jpg.json");
        string top1 = record.Top5[0].Label;
        var found = new List<string>();
        await foreach (var entry in store.FindByTagsAsync($"\"top1\" = '{top1}' AND \"model\" = 'v1'"))
            found.Add(entry.Name);
        Assert.Contains("shoot/a/photo-000.jpg", found);
        Assert.All(found, name => Assert.StartsWith("shoot/", name, StringComparison.Ordinal));

        // The top-1 probability is a fixed-width tag, so a string comparison in the query compares probabilities.
        string p = LabelTags.ProbabilityValue(record.Top5[0].Probability);
        var atLeast = new List<string>();
        await foreach (var entry in store.FindByTagsAsync($"\"top1\" = '{top1}' AND \"top1p\" >= '{p}'"))
            atLeast.Add(entry.Name);
        var above = new List<string>();
        await foreach (var entry in store.FindByTagsAsync($"\"top1\" = '{top1}' AND \"top1p\" > '{p}'"))
            above.Add(entry.Name);
        Assert.Matches(@"^[01]\.\d{4}$", p);
        Assert.Contains("shoot/a/photo-000.jpg", atLeast);
        Assert.DoesNotContain("shoot/a/photo-000.jpg", above);
    }

    [Fact]
    public async Task TenCropRecordsSayTheyAreTenCrop()
    {
        var run = await LabelingFixture.Engine(classifier, store, new LabelingOptions { BatchSize = 4, CropMode = CropMode.TenCrop })
            .RunAsync("photos", new FolderImageSource(images));

        var record = await ReadAsync<LabelRecord>(LabelPaths.LabelsContainer, "photos/a/photo-002.jpg.json");
        Assert.Equal(12, run.Statistics.Labeled);
        Assert.Equal("ten-crop", record.CropMode);
    }

    private async Task<T> ReadAsync<T>(string container, string name)
    {
        var download = await store.DownloadAsync(container, name);
        Assert.NotNull(download);
        var type = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)LabelJsonContext.Default.GetTypeInfo(typeof(T))!;
        return JsonSerializer.Deserialize(download.Content.ToMemory().Span, type)!;
    }

    private async Task<Dictionary<string, string>> SnapshotAsync(string prefix)
    {
        var snapshot = new Dictionary<string, string>();
        await foreach (var entry in store.ListAsync(LabelPaths.LabelsContainer, prefix))
            snapshot[entry.Name] = entry.ETag;
        return snapshot;
    }

    public void Dispose()
    {
        classifier.Dispose();
        foreach (string folder in new[] { images, output })
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class Progress(Action<LabelProgress> report) : IProgress<LabelProgress>
    {
        public void Report(LabelProgress value) => report(value);
    }
}
