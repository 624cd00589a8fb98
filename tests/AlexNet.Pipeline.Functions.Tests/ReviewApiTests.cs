using System.Security.Cryptography;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>The review loop's API on Azurite: the review list, its images, and decisions that become training data.</summary>
public sealed class ReviewApiTests(DurableTestHost durable) : IClassFixture<DurableTestHost>, IAsyncLifetime
{
    private static readonly string[] Classes = ["shirt", "coat", "bag", "shoe", "dress", "sandal"];

    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("rv");
    private readonly string version = Azurite.Unique("model");
    private readonly string dataset = Azurite.Unique("reviewed");
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 7, 1, 0, 0, TimeSpan.Zero));

    private PipelineApi Api => new(durable.Orchestrations, pipeline.Store, new ModelRegistry(pipeline.Store, time), time, NullLogger<PipelineApi>.Instance);

    private IBlobStore Store => pipeline.Store;

    [Fact]
    public async Task TheReviewListIsOrderedByUncertaintyFiltersByPredictedClassAndPages()
    {
        await SeedAsync();

        ApiResult<ReviewPageView> byConfidence = await Api.GetReviewPageAsync(batch);
        ApiResult<ReviewPageView> byMargin = await Api.GetReviewPageAsync(batch, order: "margin");
        ApiResult<ReviewPageView> shirts = await Api.GetReviewPageAsync(batch, label: "shirt");
        ApiResult<ReviewPageView> second = await Api.GetReviewPageAsync(batch, offset: "1", limit: "1");

        Assert.Equal(200, byConfidence.StatusCode);
        Assert.Equal(["b.png", "a.png", "sub/c.png"], byConfidence.Value!.Items.Select(i => i.Path));
        Assert.Equal(["a.png", "b.png", "sub/c.png"], byMargin.Value!.Items.Select(i => i.Path));
        Assert.Equal(0.05f, byMargin.Value.Items[0].Margin, 3);
        Assert.Equal(["a.png", "sub/c.png"], shirts.Value!.Items.Select(i => i.Path));
        Assert.Equal(2, shirts.Value.Total);
        Assert.Equal(["a.png"], second.Value!.Items.Select(i => i.Path));
        Assert.Equal(3, second.Value.Total);
        Assert.Equal(new Dictionary<string, int> { ["shirt"] = 2, ["coat"] = 1 }, byConfidence.Value.Classes);
        Assert.Equal(new ReviewProgress(Labeled: 4, Rejected: 0, NeedsReview: 3, ToReview: 3, Reviewed: 0), byConfidence.Value.Progress);
        Assert.Equal(Classes, byConfidence.Value.ModelClasses[version]);
        Assert.Equal(version, byConfidence.Value.Items[0].ModelVersion);
        Assert.Equal(5, byConfidence.Value.Items[0].Top5.Count);
    }

    [Theory]
    [InlineData("sideways", null, null, null, "order 'sideways'")]
    [InlineData(null, "maybe", null, null, "state 'maybe'")]
    [InlineData(null, null, "-1", null, "offset must be a whole number")]
    [InlineData(null, null, null, "0", "limit must be between 1 and 500")]
    [InlineData(null, null, null, "501", "limit must be between 1 and 500")]
    public async Task ABadListQueryIsRefusedWith400AndSaysWhy(string? order, string? state, string? offset, string? limit, string expected)
    {
        ApiResult<ReviewPageView> result = await Api.GetReviewPageAsync(batch, order, null, state, offset, limit);

        Assert.Equal(400, result.StatusCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABatchWithoutAReviewListIs404()
    {
        ApiResult<ReviewPageView> result = await Api.GetReviewPageAsync(batch);

        Assert.Equal(404, result.StatusCode);
        Assert.Contains("review.jsonl", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfirmingTwiceCopiesTheImageIntoTrainingOnceWithItsProvenance()
    {
        byte[] image = await SeedAsync();

        ApiResult<ReviewRecord> first = await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("shirt", "ana", dataset));
        time.Advance(TimeSpan.FromMinutes(1));
        ApiResult<ReviewRecord> again = await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("shirt", "ana", dataset));

        Assert.Equal(200, first.StatusCode);
        Assert.Equal(200, again.StatusCode);
        ReviewRecord record = again.Value!;
        Assert.Equal((ReviewOutcome.Confirmed, "shirt", "ana", version, "shirt"), (record.Outcome, record.Decision, record.Reviewer, record.ModelVersion, record.ModelTop1.Label));
        Assert.Equal(time.GetUtcNow(), record.ReviewedAt);
        List<string> copies = await NamesAsync(PipelineNames.TrainingContainer, dataset + "/");
        Assert.Equal([record.TrainingBlob!], copies);
        Assert.StartsWith($"{dataset}/shirt/{batch}-", record.TrainingBlob, StringComparison.Ordinal);
        Assert.EndsWith(".png", record.TrainingBlob, StringComparison.Ordinal);
        Assert.Equal(image, (await Store.DownloadAsync(PipelineNames.TrainingContainer, record.TrainingBlob!))!.Content.ToArray());
        IReadOnlyDictionary<string, string> metadata = (await Store.GetMetadataAsync(PipelineNames.TrainingContainer, record.TrainingBlob!))!;
        Assert.Equal(Uri.EscapeDataString($"{PipelineNames.IncomingContainer}/{batch}/a.png"), metadata["source"]);
        Assert.Equal(batch, metadata["batch"]);
        Assert.Equal("ana", metadata["reviewer"]);
        Assert.Equal(version, metadata["modelversion"]);

        BlobDownload stored = (await Store.DownloadAsync(LabelPaths.LabelsContainer, $"{batch}/reviews/a.png.json"))!;
        Assert.Equal(record, JsonSerializer.Deserialize(stored.Content.ToMemory().Span, LabelJsonContext.Default.ReviewRecord));
        ReviewPageView page = (await Api.GetReviewPageAsync(batch, state: "pending")).Value!;
        Assert.Equal(new ReviewProgress(4, 0, 3, 2, 1), page.Progress);
        Assert.Equal(["b.png", "sub/c.png"], page.Items.Select(i => i.Path));
        ReviewPageView reviewed = (await Api.GetReviewPageAsync(batch, state: "reviewed")).Value!;
        Assert.Equal("ana", Assert.Single(reviewed.Items).Review!.Reviewer);

        // The batch's report is written again from its records: a decision is not a label record.
        BatchSummary summary = await new BatchReport(Store, time).WriteAsync(batch, 0.9);
        Assert.Equal(4, summary.Labeled);
        Assert.Equal(3, summary.NeedsReview);
    }

    [Fact]
    public async Task AChangedDecisionMovesTheCopyAndNoneRemovesIt()
    {
        await SeedAsync();

        ReviewRecord corrected = (await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("coat", "ana", dataset))).Value!;
        List<string> afterCorrection = await NamesAsync(PipelineNames.TrainingContainer, dataset + "/");
        ReviewRecord moved = (await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("sandal", "bo", dataset))).Value!;
        List<string> afterMove = await NamesAsync(PipelineNames.TrainingContainer, dataset + "/");
        ReviewRecord none = (await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("none", "bo"))).Value!;
        List<string> afterNone = await NamesAsync(PipelineNames.TrainingContainer, dataset + "/");

        Assert.Equal(ReviewOutcome.Corrected, corrected.Outcome);
        Assert.Equal([corrected.TrainingBlob!], afterCorrection);
        Assert.StartsWith($"{dataset}/coat/", corrected.TrainingBlob, StringComparison.Ordinal);
        // "sandal" is not in the image's top-5 but is one of the model's classes.
        Assert.Equal(ReviewOutcome.Corrected, moved.Outcome);
        Assert.Equal([moved.TrainingBlob!], afterMove);
        Assert.StartsWith($"{dataset}/sandal/", moved.TrainingBlob, StringComparison.Ordinal);
        Assert.Equal((ReviewOutcome.None, "none"), (none.Outcome, none.Decision));
        Assert.Null(none.TrainingBlob);
        Assert.Empty(afterNone);
    }

    [Fact]
    public async Task BadDecisionsAreRefusedAndSayWhy()
    {
        await SeedAsync();

        ApiResult<ReviewRecord> notAClass = await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("cat", "ana", dataset));
        ApiResult<ReviewRecord> noReviewer = await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("shirt", " ", dataset));
        ApiResult<ReviewRecord> noDataset = await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("shirt", "ana"));
        ApiResult<ReviewRecord> escaping = await Api.DecideAsync(batch, "../x/a.png", new ReviewDecisionInput("shirt", "ana", dataset));
        ApiResult<ReviewRecord> unlabeled = await Api.DecideAsync(batch, "nope.png", new ReviewDecisionInput("shirt", "ana", dataset));
        ApiResult<ReviewDecisionInput?> notJson = PipelineApi.ReadReviewDecision("{decision: shirt"u8);
        ApiResult<ReviewDecisionInput?> empty = PipelineApi.ReadReviewDecision(" "u8);
        ApiResult<ReviewRecord> byPrincipal = await Api.DecideAsync(batch, "b.png", new ReviewDecisionInput("none", "claimed"), principal: "signed-in@example.com");

        Assert.Equal(400, notAClass.StatusCode);
        Assert.Contains("'cat' is not one of model", notAClass.Error, StringComparison.Ordinal);
        Assert.Equal(400, noReviewer.StatusCode);
        Assert.Contains("reviewer is required", noReviewer.Error, StringComparison.Ordinal);
        Assert.Equal(400, noDataset.StatusCode);
        Assert.Contains("training/<dataset>/<class>/", noDataset.Error, StringComparison.Ordinal);
        Assert.Equal(400, escaping.StatusCode);
        Assert.Equal(404, unlabeled.StatusCode);
        Assert.Equal(400, notJson.StatusCode);
        Assert.Equal(400, empty.StatusCode);
        Assert.Equal("signed-in@example.com", byPrincipal.Value!.Reviewer);
        Assert.Empty(await NamesAsync(PipelineNames.TrainingContainer, dataset + "/"));
    }

    [Fact]
    public async Task AnImageReplacedSinceItWasLabeledIsNotCopied()
    {
        await SeedAsync();
        await Store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/a.png", BinaryData.FromBytes(SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Blue)));

        ApiResult<ReviewRecord> result = await Api.DecideAsync(batch, "a.png", new ReviewDecisionInput("shirt", "ana", dataset));

        Assert.Equal(409, result.StatusCode);
        Assert.Contains("changed since it was labeled", result.Error, StringComparison.Ordinal);
        Assert.Empty(await NamesAsync(PipelineNames.TrainingContainer, dataset + "/"));
        Assert.Null(await Store.GetEntryAsync(LabelPaths.LabelsContainer, LabelPaths.ReviewRecord(batch, "a.png")));
    }

    [Fact]
    public async Task TheImageRouteServesOnlyLabeledImagesOfARecognisedType()
    {
        byte[] image = await SeedAsync();
        await Store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/page.png", BinaryData.FromBytes("<script>alert(1)</script>"u8.ToArray()));
        await WriteLabelAsync("page.png", "<script>alert(1)</script>"u8.ToArray(), ("shirt", 0.5f), ("coat", 0.1f));

        ApiResult<BinaryContent> served = await Api.GetReviewImageAsync(batch, "a.png");
        ApiResult<BinaryContent> notImage = await Api.GetReviewImageAsync(batch, "page.png");
        ApiResult<BinaryContent> unlabeled = await Api.GetReviewImageAsync(batch, "nope.png");
        ApiResult<BinaryContent> escaping = await Api.GetReviewImageAsync(batch, "a/../../models/current.json");

        Assert.Equal(200, served.StatusCode);
        Assert.Equal("image/png", served.Value!.ContentType);
        Assert.Equal(image, served.Value.Bytes);
        Assert.Equal(415, notImage.StatusCode);
        Assert.Equal(404, unlabeled.StatusCode);
        Assert.Equal(400, escaping.StatusCode);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await foreach (BlobEntry entry in Store.ListAsync(PipelineNames.TrainingContainer, dataset + "/"))
            await Store.DeleteAsync(PipelineNames.TrainingContainer, entry.Name);
        await pipeline.DisposeAsync();
    }

    /// <summary>
    /// A labeled batch of four images (one confident, three below 0.9 in review.jsonl) by a published model with six
    /// classes, its report written by <see cref="BatchReport"/>; returns the bytes of <c>a.png</c>.
    /// </summary>
    private async Task<byte[]> SeedAsync()
    {
        var manifest = new ModelManifest
        {
            Version = version,
            Classes = Classes,
            InputSize = 64,
            BaseSize = 73,
            Mean = [120f, 115f, 100f],
            WeightsSha256 = new string('0', 64),
            CreatedAt = time.GetUtcNow(),
        };
        await Store.CreateIfAbsentAsync(PipelineNames.ModelsContainer, $"{version}/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(manifest.ToJson()));

        byte[] a = SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Red);
        // Top-1 0.40, margin 0.05 / top-1 0.30, margin 0.25 / top-1 0.60, margin 0.50 / top-1 0.95 (not in review).
        await UploadAndLabelAsync("a.png", a, ("shirt", 0.40f), ("coat", 0.35f), ("bag", 0.1f), ("shoe", 0.1f), ("dress", 0.05f));
        await UploadAndLabelAsync("b.png", SampleImages.Solid(ImageFormat.Jpeg, 8, 8, SKColors.Green), ("coat", 0.30f), ("shirt", 0.05f), ("bag", 0.02f), ("shoe", 0.02f), ("dress", 0.01f));
        await UploadAndLabelAsync("sub/c.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Gray), ("shirt", 0.60f), ("bag", 0.10f), ("coat", 0.1f), ("shoe", 0.1f), ("dress", 0.1f));
        await UploadAndLabelAsync("d.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.White), ("bag", 0.95f), ("shirt", 0.01f), ("coat", 0.01f), ("shoe", 0.01f), ("dress", 0.01f));
        await new BatchReport(Store, time).WriteAsync(batch, 0.9);
        return a;
    }

    private async Task UploadAndLabelAsync(string path, byte[] bytes, params (string Label, float P)[] top5)
    {
        await Store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/{path}", BinaryData.FromBytes(bytes));
        await WriteLabelAsync(path, bytes, top5);
    }

    private async Task WriteLabelAsync(string path, byte[] bytes, params (string Label, float P)[] top5)
    {
        BlobEntry entry = (await Store.GetEntryAsync(PipelineNames.IncomingContainer, $"{batch}/{path}"))!;
        var record = new LabelRecord(
            batch,
            new ImageIdentity(PipelineNames.IncomingContainer, entry.Name, entry.ETag, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length),
            new ModelIdentity(version, new string('0', 64)),
            "center",
            [.. top5.Select(s => new LabelScore(s.Label, Array.IndexOf(Classes, s.Label), s.P))],
            time.GetUtcNow());
        await Store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, path), BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)));
    }

    private async Task<List<string>> NamesAsync(string container, string prefix)
    {
        var names = new List<string>();
        await foreach (BlobEntry entry in Store.ListAsync(container, prefix))
            names.Add(entry.Name);
        return names;
    }
}
