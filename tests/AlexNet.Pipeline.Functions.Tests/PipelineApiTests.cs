using AlexNet.Testing;
using System.Text.Json;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AlexNet.Pipeline.Functions.Tests;

public sealed class PipelineApiTests(DurableTestHost durable) : IClassFixture<DurableTestHost>, IAsyncLifetime
{
    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("api");
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2025, 3, 14, 15, 9, 26, TimeSpan.Zero));
    private readonly string modelsRoot = Directory.CreateTempSubdirectory("alexnet-api-models-").FullName;

    private PipelineApi Api => new(durable.Orchestrations, pipeline.Store, new ModelRegistry(pipeline.Store, time), time, NullLogger<PipelineApi>.Instance);

    [Fact]
    public async Task StartingABatchStartsItsOrchestrationOnceUnderTheBatchId()
    {
        ApiResult<BatchStarted> started = await Api.StartBatchAsync(batch, new LabelBatchInput(string.Empty, ChunkSize: 64));
        await durable.WaitForCompletionAsync(batch);
        ApiResult<BatchStarted> again = await Api.StartBatchAsync(batch);
        ApiResult<BatchStatusView> status = await Api.GetBatchStatusAsync(batch);

        Assert.Equal(202, started.StatusCode);
        Assert.Equal(batch, started.Value!.InstanceId);
        Assert.Equal(64, started.Value.Input.ChunkSize);
        Assert.Equal(batch, started.Value.Input.Batch);
        Assert.Equal(409, again.StatusCode);
        Assert.Contains("already started", again.Error, StringComparison.Ordinal);
        Assert.Equal(200, status.StatusCode);
        Assert.Equal(OrchestrationState.Completed, status.Value!.State);
        Assert.Equal(2, status.Value.Result!.Labeled);
        Assert.Equal("done", status.Value.Progress!.Phase);
    }

    [Fact]
    public async Task TwentyConcurrentStartsOfOneBatchStartItOnceAndBatchIdsCannotTakeARetrainsName()
    {
        // Before the start claims the local engine answered 202 to all twenty (its duplicate check is not atomic).
        ApiResult<BatchStarted>[] starts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Api.StartBatchAsync(batch))));
        await durable.WaitForCompletionAsync(batch);
        ApiResult<BatchStarted> reserved = await Api.StartBatchAsync(PipelineApi.RetrainInstanceId("fashion", time.GetUtcNow()));

        Assert.Equal(1, starts.Count(s => s.StatusCode == 202));
        Assert.Equal(19, starts.Count(s => s.StatusCode == 409));
        Assert.Equal(400, reserved.StatusCode);
        Assert.Contains("kept for retraining runs", reserved.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchStatusIsCamelCaseThroughoutWhateverCasingTheEngineStoredProgressIn()
    {
        await Api.StartBatchAsync(batch);
        OrchestrationMetadata stored = await durable.WaitForCompletionAsync(batch);
        ApiResult<BatchStatusView> status = await Api.GetBatchStatusAsync(batch);

        // The engine stored PascalCase (what a client written against it found inside "progress" before)...
        Assert.Contains("\"Phase\":\"done\"", stored.SerializedCustomStatus, StringComparison.Ordinal);
        // ...and the API answers camelCase at every level.
        using JsonDocument body = JsonDocument.Parse(JsonSerializer.Serialize(status.Value!, ApiJsonContext.Default.BatchStatusView));
        JsonElement root = body.RootElement;
        Assert.Equal("done", root.GetProperty("progress").GetProperty("phase").GetString());
        Assert.Equal(3, root.GetProperty("progress").GetProperty("imagesDone").GetInt32());
        Assert.Equal(2, root.GetProperty("result").GetProperty("labeled").GetInt32());
        Assert.Equal("Completed", root.GetProperty("state").GetString());
        Assert.All(PropertyNames(root), name => Assert.True(char.IsLower(name[0]), $"property '{name}' is not camelCase"));
    }

    private static IEnumerable<string> PropertyNames(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => PropertyNames(p.Value).Prepend(p.Name)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(PropertyNames),
        _ => [],
    };

    public static TheoryData<string, string, string> BadStarts() => new()
    {
        { "../etc", "{}", "batch id" },
        { "two words", "{}", "batch id" },
        { "ok", "{\"chunkSize\":0}", "chunkSize" },
        { "ok", "{\"minConfidence\":1.5}", "minConfidence" },
        { "ok", "{\"cropMode\":\"sideways\"}", "cropMode" },
        // An enum parse took numbers: "5" passed the API, then every chunk was dead-lettered by the worker.
        { "ok", "{\"cropMode\":\"5\"}", "cropMode '5' is not one of: center, ten-crop" },
        { "ok", "{\"container\":\"models\"}", "cannot be labeled" },
        { "ok", "{\"batch\":\"other\"}", "names batch 'other'" },
    };

    [Theory]
    [MemberData(nameof(BadStarts))]
    public async Task AStartWithABadBatchIdOrOptionIsRefusedWith400AndSaysWhy(string batchId, string body, string expected)
    {
        ApiResult<LabelBatchInput?> options = PipelineApi.ReadBatchOptions(System.Text.Encoding.UTF8.GetBytes(body));
        ApiResult<BatchStarted> result = await Api.StartBatchAsync(batchId, options.Value);

        Assert.Equal(400, result.StatusCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Null(await durable.Client.GetInstanceAsync(batchId));
    }

    [Theory]
    [InlineData("ten-crop", "ten-crop")]
    [InlineData("TenCrop", "ten-crop")]
    [InlineData("Centre", "center")]
    public async Task ACropModeIsTakenInTheDocumentedFormAndStartsTheBatchWithThatName(string given, string sent)
    {
        // The docs say "ten-crop"; an enum parse refused it with a 400.
        ApiResult<LabelBatchInput?> options = PipelineApi.ReadBatchOptions(System.Text.Encoding.UTF8.GetBytes($"{{\"cropMode\":\"{given}\"}}"));
        ApiResult<BatchStarted> started = await Api.StartBatchAsync(batch, options.Value);
        await durable.WaitForCompletionAsync(batch);

        Assert.Equal(202, started.StatusCode);
        Assert.Equal(sent, started.Value!.Input.CropMode);
    }

    [Fact]
    public void ABodyThatIsNotJsonIsRefusedWith400()
    {
        ApiResult<LabelBatchInput?> result = PipelineApi.ReadBatchOptions("{chunkSize: twelve"u8);

        Assert.Equal(400, result.StatusCode);
        Assert.Contains("not a valid set of batch options", result.Error, StringComparison.Ordinal);
        Assert.Null(PipelineApi.ReadBatchOptions(" \n"u8).Value);
    }

    [Fact]
    public async Task TheStatusOfABatchNobodyStartedIs404()
    {
        ApiResult<BatchStatusView> result = await Api.GetBatchStatusAsync(batch);

        Assert.Equal(404, result.StatusCode);
        Assert.Contains(batch, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhileNoModelIsPromotedABatchsUploadsAreShownWaitingForOneWithWhatToDo()
    {
        // A folder of its own: on the shared Azurite another test may have promoted a model.
        var store = new LocalFolderBlobStore(modelsRoot);
        var api = new PipelineApi(durable.Orchestrations, store, new ModelRegistry(store, time), time, NullLogger<PipelineApi>.Instance);
        foreach (string name in new[] { "a.png", "b.png", "sub/c.png" })
            await store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}/{name}", BinaryData.FromBytes([1, 2, 3]));
        await store.UploadAsync(PipelineNames.IncomingContainer, $"{batch}-other/d.png", BinaryData.FromBytes([1]));

        ApiResult<BatchStatusView> waiting = await api.GetBatchStatusAsync(batch);
        await PublishManifestAsync(store, "v1", parent: null);
        await api.PromoteAsync("v1");
        ApiResult<BatchStatusView> afterPromotion = await api.GetBatchStatusAsync(batch);

        Assert.Equal(200, waiting.StatusCode);
        Assert.Equal(OrchestrationState.NotFound, waiting.Value!.State);
        Assert.Equal(3, waiting.Value.Waiting!.Uploads);
        Assert.False(waiting.Value.Waiting.AtLeast);
        Assert.Contains("waiting for a model", waiting.Value.Waiting.Reason, StringComparison.Ordinal);
        Assert.Contains("POST /api/retrain/<dataset>", waiting.Value.Waiting.Advice, StringComparison.Ordinal);
        Assert.Equal(404, afterPromotion.StatusCode);
    }

    [Fact]
    public async Task TheStatusOfABatchLabeledElsewhereShowsItsSummary()
    {
        var summary = new BatchSummary(batch, 3, 2, 1, 0, new Dictionary<string, int> { ["v1"] = 2 }, new Dictionary<string, int> { ["shirt"] = 2 },
            [0, 2], new Dictionary<string, int> { ["Corrupt"] = 1 }, 0.5, null, null, time.GetUtcNow(), null);
        await pipeline.Store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Summary),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(summary, LabelJsonContext.Default.BatchSummary)));

        ApiResult<BatchStatusView> result = await Api.GetBatchStatusAsync(batch);

        Assert.Equal(200, result.StatusCode);
        Assert.Equal(OrchestrationState.NotFound, result.Value!.State);
        Assert.Equal(2, result.Value.Summary!.Labeled);
    }

    [Fact]
    public async Task TheLabelsOfOneImageAreItsLabelRecord()
    {
        var record = new LabelRecord(batch, new ImageIdentity(PipelineNames.IncomingContainer, $"{batch}/shop/shirt.jpg", "\"e1\"", "abc", 10),
            new ModelIdentity("v1", "sha"), "Center", [new LabelScore("shirt", 6, 0.93f), new LabelScore("coat", 4, 0.04f)], time.GetUtcNow());
        await pipeline.Store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(batch, "shop/shirt.jpg"),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)));

        ApiResult<ImageLabelsView> found = await Api.GetImageLabelsAsync(batch, "shop/shirt.jpg");
        ApiResult<ImageLabelsView> missing = await Api.GetImageLabelsAsync(batch, "shop/none.jpg");
        ApiResult<ImageLabelsView> escaping = await Api.GetImageLabelsAsync(batch, "../other/x.jpg");

        Assert.Equal(200, found.StatusCode);
        Assert.Equal(LabelStatus.Labeled, found.Value!.Status);
        Assert.Equal("shirt", found.Value.Label!.Top5[0].Label);
        Assert.Null(found.Value.Rejection);
        Assert.Equal(404, missing.StatusCode);
        Assert.Equal(400, escaping.StatusCode);
        Assert.Contains("'..'", escaping.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLabelsOfARejectedImageAreItsRejectedRecord()
    {
        var rejected = new RejectedRecord(batch, new ImageIdentity(PipelineNames.IncomingContainer, $"{batch}/bad.png", "\"e\"", string.Empty, 4), "Corrupt", "The PNG's IHDR chunk fails its CRC check.", time.GetUtcNow());
        await pipeline.Store.UploadAsync(LabelPaths.RejectedContainer, LabelPaths.Record(batch, "bad.png"),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(rejected, LabelJsonContext.Default.RejectedRecord)));

        ApiResult<ImageLabelsView> result = await Api.GetImageLabelsAsync(batch, "bad.png");

        Assert.Equal(LabelStatus.Rejected, result.Value!.Status);
        Assert.Equal("Corrupt", result.Value.Rejection!.Code);
    }

    [Fact]
    public async Task APackageIsPublishedOnceFromItsTarAndAnotherUnderItsVersionOrAnotherAddressIsRefused()
    {
        var store = new LocalFolderBlobStore(modelsRoot);
        var api = new PipelineApi(durable.Orchestrations, store, new ModelRegistry(store, time), time, NullLogger<PipelineApi>.Instance);
        ModelPackage package = Package("v1", fill: 1);

        ApiResult<ModelPublished> first = await api.PublishModelAsync("v1", Tar(package));
        ApiResult<ModelPublished> again = await api.PublishModelAsync("v1", Tar(package));
        ApiResult<ModelPublished> other = await api.PublishModelAsync("v1", Tar(Package("v1", fill: 2)));
        ApiResult<ModelPublished> misaddressed = await api.PublishModelAsync("v2", Tar(package));
        ApiResult<ModelPublished> notTar = await api.PublishModelAsync("v3", new MemoryStream(new byte[1024]));

        Assert.Equal((200, true), (first.StatusCode, first.Value!.Created));
        Assert.Equal(package.Manifest.WeightsSha256, first.Value.WeightsSha256);
        Assert.Equal((200, false), (again.StatusCode, again.Value!.Created));
        Assert.Equal(409, other.StatusCode);
        Assert.Contains("already published with other weights", other.Error, StringComparison.Ordinal);
        Assert.Equal(400, misaddressed.StatusCode);
        Assert.Contains("names version 'v1' but the address names 'v2'", misaddressed.Error, StringComparison.Ordinal);
        Assert.Equal(400, notTar.StatusCode);
        Assert.Equal(package.Manifest.WeightsSha256, (await new ModelRegistry(store, time).LoadAsync("v1")).Manifest.WeightsSha256);
    }

    [Fact]
    public async Task APromotionByHandRecordsItsReasonAndAGatedOneNeedsAPublishedVersionNotCurrentYet()
    {
        var store = new LocalFolderBlobStore(modelsRoot);
        var api = new PipelineApi(durable.Orchestrations, store, new ModelRegistry(store, time), time, NullLogger<PipelineApi>.Instance);
        await PublishManifestAsync(store, "v1", parent: null);

        ApiResult<CurrentModelPointer> blank = await api.PromoteAsync("v1", new PromoteRequest(Reason: " "));
        ApiResult<RetrainStarted> both = await api.StartGatedPromotionAsync("v1", new PromoteRequest(Reason: "x", Dataset: "fashion"));
        ApiResult<RetrainStarted> unknown = await api.StartGatedPromotionAsync("v9", new PromoteRequest(Dataset: "fashion"));
        ApiResult<CurrentModelPointer> byHand = await api.PromoteAsync("v1", new PromoteRequest(Reason: "the gate's set is too small"));
        ApiResult<RetrainStarted> current = await api.StartGatedPromotionAsync("v1", new PromoteRequest(Dataset: "fashion"));

        Assert.Equal(400, blank.StatusCode);
        Assert.Equal(400, both.StatusCode);
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal((200, "promoted by hand: the gate's set is too small"), (byHand.StatusCode, byHand.Value!.Reason));
        Assert.Equal(409, current.StatusCode);
        Assert.Contains("current already", current.Error, StringComparison.Ordinal);
    }

    /// <summary>A 2-class package at input 63 whose weights are <paramref name="fill"/> bytes of the network's size: the API checks sizes and hashes, not values.</summary>
    private static ModelPackage Package(string version, byte fill)
    {
        var manifest = new ModelManifest { Version = version, Classes = ["a", "b"], InputSize = 63, BaseSize = 63, Mean = [0f, 0f, 0f], WeightsSha256 = "pending" };
        byte[] weights = new byte[ModelPackage.ExpectedWeightsBytes(manifest).Min];
        Array.Fill(weights, fill);
        return ModelPackage.FromWeights(manifest, weights);
    }

    private static MemoryStream Tar(ModelPackage package)
    {
        var buffer = new MemoryStream();
        ModelPackageArchive.Write(package, buffer);
        buffer.Position = 0;
        return buffer;
    }

    [Fact]
    public async Task ModelsArePromotedAndRolledBackAndUnknownVersionsAreRefused()
    {
        // The models container is shared by everything on Azurite; a folder of its own keeps current.json private.
        var store = new LocalFolderBlobStore(modelsRoot);
        var api = new PipelineApi(durable.Orchestrations, store, new ModelRegistry(store, time), time, NullLogger<PipelineApi>.Instance);
        await PublishManifestAsync(store, "v1", parent: null);
        await PublishManifestAsync(store, "v2", parent: "v1");

        ApiResult<CurrentModelPointer> unknown = await api.PromoteAsync("v9");
        ApiResult<CurrentModelPointer> invalid = await api.PromoteAsync("v1/../v2");
        ApiResult<CurrentModelPointer> nothingToRollBack = await api.RollbackAsync();
        await api.PromoteAsync("v1");
        ApiResult<CurrentModelPointer> promoted = await api.PromoteAsync("v2");
        ApiResult<ModelsView> listed = await api.ListModelsAsync();
        ApiResult<CurrentModelPointer> rolledBack = await api.RollbackAsync();

        Assert.Equal(404, unknown.StatusCode);
        Assert.Contains("v9", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(400, invalid.StatusCode);
        Assert.Equal(409, nothingToRollBack.StatusCode);
        Assert.Equal(("v2", "v1", time.GetUtcNow(), "promoted through the API"), (promoted.Value!.Version, promoted.Value.Previous, promoted.Value.PromotedAt, promoted.Value.Reason));
        Assert.Equal(["v1"], promoted.Value.History!);
        Assert.Equal(["v2", "v1"], listed.Value!.Models.Select(m => m.Version));
        Assert.True(listed.Value.Models[0].IsCurrent);
        Assert.Equal("v1", rolledBack.Value!.Version);
        Assert.Equal("rolled back through the API (from v2)", rolledBack.Value.Reason);

        // A second rollback has nowhere earlier to go: refused (it swapped back to v2, a rollback undoing itself).
        ApiResult<CurrentModelPointer> again = await api.RollbackAsync();
        Assert.Equal(409, again.StatusCode);
        Assert.Equal("v1", (await new ModelRegistry(store, time).GetCurrentAsync())!.Version);
    }

    [Fact]
    public async Task AMalformedManifestIsListedAsUnreadableAndTheOtherModelsStillList()
    {
        var store = new LocalFolderBlobStore(modelsRoot);
        var api = new PipelineApi(durable.Orchestrations, store, new ModelRegistry(store, time), time, NullLogger<PipelineApi>.Instance);
        await PublishManifestAsync(store, "v1", parent: null);
        await store.CreateIfAbsentAsync(PipelineNames.ModelsContainer, $"broken/{ModelPackage.ManifestFileName}", BinaryData.FromString("{ \"version\": "));

        ApiResult<ModelsView> listed = await api.ListModelsAsync();

        Assert.Equal(200, listed.StatusCode);
        Assert.Equal(["v1"], listed.Value!.Models.Select(m => m.Version));
        UnreadableModelView unreadable = Assert.Single(listed.Value.Unreadable);
        Assert.Equal("broken", unreadable.Version);
        Assert.Contains("not valid JSON", unreadable.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetrainNeedsADatasetWithImagesStartsOncePerMinuteAndAtMostOncePerInterval()
    {
        string dataset = Azurite.Unique("ds");
        ApiResult<RetrainStarted> empty = await Api.StartRetrainAsync(dataset);
        ApiResult<RetrainStarted> invalid = await Api.StartRetrainAsync("a/b");
        await pipeline.Store.UploadAsync(PipelineNames.TrainingContainer, $"{dataset}/shirt/1.png", BinaryData.FromBytes([1]));

        ApiResult<RetrainStarted> started = await Api.StartRetrainAsync(dataset, force: true);
        await durable.WaitForCompletionAsync(started.Value!.InstanceId);
        ApiResult<RetrainStarted> again = await Api.StartRetrainAsync(dataset);
        ApiResult<RetrainStatusView> status = await Api.GetRetrainStatusAsync(started.Value.InstanceId);
        ApiResult<RetrainStatusView> notARetrain = await Api.GetRetrainStatusAsync(batch);
        ApiResult<RetrainStatusView> never = await Api.GetRetrainStatusAsync($"retrain-{dataset}-20000101-0000");

        Assert.Equal((OrchestrationState.Completed, "done", "v2"), (status.Value!.State, status.Value.Progress!.Phase, status.Value.Progress.CandidateVersion));
        Assert.Equal(RetrainOutcome.Refused, status.Value.Result!.Outcome);
        Assert.Contains("\"outcome\":\"Refused\"", JsonSerializer.Serialize(status.Value, ApiJsonContext.Default.RetrainStatusView), StringComparison.Ordinal);
        Assert.Equal(400, notARetrain.StatusCode);
        Assert.Equal(404, never.StatusCode);
        // Three minutes later: refused (force=true started a training every minute); past the interval: started.
        time.Advance(TimeSpan.FromMinutes(3));
        ApiResult<RetrainStarted> soon = await Api.StartRetrainAsync(dataset, force: true);
        time.Advance(PipelineApi.MinRetrainInterval);
        ApiResult<RetrainStarted> later = await Api.StartRetrainAsync(dataset, force: true);
        await durable.WaitForCompletionAsync(later.Value!.InstanceId);

        Assert.Equal(429, soon.StatusCode);
        Assert.Contains(started.Value.InstanceId, soon.Error, StringComparison.Ordinal);
        Assert.Equal(202, later.StatusCode);
        Assert.Equal(404, empty.StatusCode);
        Assert.Equal(400, invalid.StatusCode);
        Assert.Equal(202, started.StatusCode);
        Assert.Equal($"retrain-{dataset}-20250314-1509", started.Value.InstanceId);
        Assert.True(started.Value.Input.Force);
        Assert.Equal(409, again.StatusCode);
        await pipeline.Store.DeleteAsync(PipelineNames.TrainingContainer, $"{dataset}/shirt/1.png");
    }

    public static TheoryData<string, string> BadRetrainOptions() => new()
    {
        { """{"epochs": 0}""", "epochs must be between 1 and 1000, not 0" },
        { """{"inputSize": 40}""", "inputSize must be between 63 and 512, not 40" },
        { """{"inputSize": 1000}""", "inputSize must be between 63 and 512, not 1000" },
        { """{"inputSize": 64, "baseSize": 60}""", "baseSize must be between 64 and 1024, not 60" },
        { """{"learningRate": 5}""", "learningRate must be between" },
        { """{"batchSize": -1}""", "batchSize must be between 1 and 1024, not -1" },
        { """{"recipe": "fast"}""", "recipe must be one of default, paper, not 'fast'" },
        { """{"epochs": "ten"}""", "the body is not a valid set of retrain options" },
    };

    [Theory]
    [MemberData(nameof(BadRetrainOptions))]
    public async Task RetrainOptionsOutOfRangeAreRefusedWith400AndSayWhich(string body, string expected)
    {
        string dataset = Azurite.Unique("ds");
        ApiResult<RetrainInput?> options = PipelineApi.ReadRetrainOptions(System.Text.Encoding.UTF8.GetBytes(body));
        ApiResult<RetrainStarted> result = options.IsSuccess ? await Api.StartRetrainAsync(dataset, options: options.Value) : ApiResult.BadRequest<RetrainStarted>(options.Error!);

        Assert.Equal(400, result.StatusCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetrainOptionsFromTheBodyReachTheOrchestrationAndLeftOutOnesStayNull()
    {
        string dataset = Azurite.Unique("ds");
        await pipeline.Store.UploadAsync(PipelineNames.TrainingContainer, $"{dataset}/shirt/1.png", BinaryData.FromBytes([1]));
        ApiResult<RetrainInput?> options = PipelineApi.ReadRetrainOptions("""{"epochs": 12, "inputSize": 64, "seed": 3, "recipe": "paper", "fromCurrent": true}"""u8);

        ApiResult<RetrainStarted> started = await Api.StartRetrainAsync(dataset, options: options.Value);
        await durable.WaitForCompletionAsync(started.Value!.InstanceId);

        Assert.Equal(202, started.StatusCode);
        RetrainInput input = started.Value.Input;
        Assert.Equal((dataset, 12, 64, 3, "paper"), (input.Dataset, input.Epochs, input.InputSize, input.Seed, input.Recipe));
        Assert.Null(input.BaseSize);
        Assert.Null(input.BatchSize);
        Assert.True(input.FromCurrent);
        await pipeline.Store.DeleteAsync(PipelineNames.TrainingContainer, $"{dataset}/shirt/1.png");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await pipeline.DisposeAsync();
        Directory.Delete(modelsRoot, recursive: true);
    }

    private async Task PublishManifestAsync(IBlobStore store, string version, string? parent)
    {
        var manifest = new ModelManifest
        {
            Version = version,
            ParentVersion = parent,
            Classes = ["shirt", "coat"],
            InputSize = 64,
            BaseSize = 73,
            Mean = [120f, 115f, 100f],
            WeightsSha256 = new string('0', 64),
            CreatedAt = time.GetUtcNow(),
        };
        time.Advance(TimeSpan.FromMinutes(1));
        await store.CreateIfAbsentAsync(PipelineNames.ModelsContainer, $"{version}/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(manifest.ToJson()));
    }
}
