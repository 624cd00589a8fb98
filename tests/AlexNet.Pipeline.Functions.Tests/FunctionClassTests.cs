using System.Net;
using System.Text;
using System.Text.Json;
using AlexNet.Imaging;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Functions.Api;
using AlexNet.Pipeline.Functions.Ingest;
using AlexNet.Pipeline.Functions.Retrain;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Testing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>The function classes, made by the app's own container and called as the host would call them.</summary>
public sealed class FunctionClassTests(DurableTestHost durable) : IClassFixture<DurableTestHost>, IAsyncLifetime
{
    private readonly PipelineServices pipeline = new(new Dictionary<string, string?> { ["Retrain:Dataset"] = string.Empty });
    private readonly string batch = Azurite.Unique("fn");

    private T Create<T>() => ActivatorUtilities.CreateInstance<T>(pipeline.Services);

    [Fact]
    public async Task OnImageUploadedQueuesTheBlobItWasBoundTo()
    {
        var entry = await pipeline.UploadAsync($"{batch}/a.jpg", SampleImages.PhotoJpeg(32, 24, seed: 2));

        await Create<UploadFunctions>().OnImageUploaded(pipeline.BlobClient(entry.Name), CancellationToken.None);

        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal([entry.Name], request.Items!.Select(i => i.Path));
    }

    [Fact]
    public async Task OnUploadEventIngestsTheBlobOfAnEventGridMessageAndDropsGarbage()
    {
        var entry = await pipeline.UploadAsync($"{batch}/b.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Navy));
        string message = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            "{\"eventType\":\"Microsoft.Storage.BlobCreated\",\"subject\":\"/blobServices/default/containers/" + pipeline.UploadContainer + "/blobs/" + entry.Name + "\",\"data\":{}}"));
        string otherContainer = """{"eventType":"Microsoft.Storage.BlobCreated","subject":"/blobServices/default/containers/elsewhere/blobs/x/y.png","data":{}}""";
        var functions = Create<UploadFunctions>();

        await functions.OnUploadEvent(message, CancellationToken.None);
        await functions.OnUploadEvent(otherContainer, CancellationToken.None);
        await functions.OnUploadEvent("garbage", CancellationToken.None);

        var (_, request) = Assert.Single(await pipeline.DrainLabelQueueAsync());
        Assert.Equal([entry.Name], request.Items!.Select(i => i.Path));
    }

    [Fact]
    public async Task SweepIncomingIngestsWhatNoEventAnnounced()
    {
        await pipeline.UploadAsync($"{batch}/quiet.png", SampleImages.Solid(ImageFormat.Png, 8, 8, SKColors.Olive));

        await Create<UploadFunctions>().SweepIncoming(new TimerInfo(), CancellationToken.None);

        Assert.Single(await pipeline.DrainLabelQueueAsync());
    }

    [Fact]
    public async Task StartBatchAnswers202WithItsOwnStatusAddressAndNoKeyThen409()
    {
        var functions = Create<PipelineHttpFunctions>();
        string url = $"http://localhost:7071/api/batches/{batch}";

        var started = await functions.StartBatch(Request("POST", url, """{"chunkSize":32}"""), batch, durable.Client, CancellationToken.None);
        await durable.WaitForCompletionAsync(batch);
        var again = (TestHttpResponse)await functions.StartBatch(Request("POST", url), batch, durable.Client, CancellationToken.None);

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Contains(started.Headers, h => h.Key == "Location");
        // The casing docs/functions.md gives, as the real worker serializer writes it (it wrote "Id", "StatusQueryGetUri").
        using (JsonDocument body = JsonDocument.Parse(((TestHttpResponse)started).ReadBody()))
        {
            Assert.Equal(batch, body.RootElement.GetProperty("id").GetString());
            // This API's status route: Durable's webhook URLs carried the extension's system key ("code=").
            Assert.Equal($"http://localhost:7071/api/batches/{batch}", body.RootElement.GetProperty("statusQueryGetUri").GetString());
            Assert.Equal([$"http://localhost:7071/api/batches/{batch}"], started.Headers.GetValues("Location"));
            Assert.DoesNotContain("code=", ((TestHttpResponse)started).ReadBody(), StringComparison.Ordinal);
            Assert.DoesNotContain(body.RootElement.EnumerateObject(), p => char.IsUpper(p.Name[0]));
        }
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(409, JsonDocument.Parse(again.ReadBody()).RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task StartBatchRefusesABadBodyWith400AndAJsonError()
    {
        var response = (TestHttpResponse)await Create<PipelineHttpFunctions>().StartBatch(
            Request("POST", $"http://localhost/api/batches/{batch}", "{\"chunkSize\":-1}"), batch, durable.Client, CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        ApiError error = JsonSerializer.Deserialize(response.ReadBody(), ApiJsonContext.Default.ApiError)!;
        Assert.Contains("chunkSize", error.Error, StringComparison.Ordinal);
        Assert.Contains(response.Headers, h => h.Key == "Content-Type" && h.Value.Single().StartsWith("application/json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartBatchRefusesAnOversizedBodyByItsLengthWithoutReadingItAndReadsAnUndeclaredOneOnlyToTheLimit()
    {
        string url = $"http://localhost/api/batches/{batch}";
        var declared = new CountingBodyStream(50_000_000);
        var request = new TestHttpRequest(new TestFunctionContext(pipeline.Services), "POST", url, bodyStream: declared);
        request.Headers.Add("Content-Length", "50000000");
        var undeclared = new CountingBodyStream(50_000_000);

        var refused = (TestHttpResponse)await Create<PipelineHttpFunctions>().StartBatch(request, batch, durable.Client, CancellationToken.None);
        var cut = (TestHttpResponse)await Create<PipelineHttpFunctions>().StartBatch(
            new TestHttpRequest(new TestFunctionContext(pipeline.Services), "POST", url, bodyStream: undeclared), batch, durable.Client, CancellationToken.None);

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.RequestEntityTooLarge), (refused.StatusCode, cut.StatusCode));
        Assert.Equal(0, declared.BytesRead);
        Assert.Equal(PipelineHttpFunctions.MaxBodyBytes + 1, undeclared.BytesRead);
    }

    [Fact]
    public async Task GetImageLabelsAnswersWithTheRecordOr404()
    {
        var rejected = new RejectedRecord(batch, new ImageIdentity("incoming", $"{batch}/x/y.gif", "\"e\"", string.Empty, 9), "TooManyFrames", "too many", DateTimeOffset.UtcNow);
        await pipeline.Store.UploadAsync(LabelPaths.RejectedContainer, LabelPaths.Record(batch, "x/y.gif"),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(rejected, LabelJsonContext.Default.RejectedRecord)));
        var functions = Create<PipelineHttpFunctions>();

        var found = (TestHttpResponse)await functions.GetImageLabels(Request("GET", "http://localhost/api/labels/x"), batch, "x/y.gif", durable.Client, CancellationToken.None);
        var missing = (TestHttpResponse)await functions.GetImageLabels(Request("GET", "http://localhost/api/labels/x"), batch, "x/z.gif", durable.Client, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        ImageLabelsView view = JsonSerializer.Deserialize(found.ReadBody(), ApiJsonContext.Default.ImageLabelsView)!;
        Assert.Equal("TooManyFrames", view.Rejection!.Code);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task StartRetrainRefusesAForceThatIsNotABoolean()
    {
        var response = (TestHttpResponse)await Create<PipelineHttpFunctions>().StartRetrain(
            Request("POST", "http://localhost/api/retrain/fashion?force=maybe"), "fashion", durable.Client, CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("maybe", response.ReadBody(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetrainTimerStartsNothingWhenNoDatasetIsConfigured()
    {
        await Create<RetrainFunctions>().RetrainTimer(new TimerInfo(), durable.Client, CancellationToken.None);

        string today = PipelineApi.RetrainInstanceId(string.Empty, DateTimeOffset.UtcNow)[..8];
        var query = durable.Client.GetAllInstancesAsync(new Microsoft.DurableTask.Client.OrchestrationQuery { InstanceIdPrefix = today });
        await foreach (var instance in query)
            Assert.Fail($"unexpected retrain {instance.InstanceId}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => pipeline.DisposeAsync().AsTask();

    private TestHttpRequest Request(string method, string url, string? body = null) =>
        new(new TestFunctionContext(pipeline.Services), method, url, body);
}
