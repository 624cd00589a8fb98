using AlexNet.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using AlexNet.Reliability.Tests.Fixtures;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// <c>alexnet pipeline</c> as users run it: the built command as a process of its own (ingest sweep, worker,
/// orchestrations on the local durable engine, HTTP API), on an Azurite account of the test's own, fed and read with
/// the Azure SDK alone, and killed with SIGKILL mid-batch.
/// </summary>
public sealed class PipelineCommandTests(ITestOutputHelper output)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task UploadsGetOneRecordEachAndASummaryAndUploadingTheSameFilesAgainDuplicatesNothing()
    {
        const int Photos = 48;
        await using var azurite = await PrivateAzurite.StartAsync();
        var store = new AzureBlobStore(new BlobServiceClient(azurite.ConnectionString), NullLogger<AzureBlobStore>.Instance);
        await TestModels.PromoteV1Async(store);
        string batch = Uploads.NewBatch("e2e");
        Dictionary<string, byte[]> files = Files(batch, Photos);

        await using var pipeline = await LocalPipeline.StartAsync(azurite, NewTaskHub(), sweepSeconds: 1, output);
        var clock = Stopwatch.StartNew();
        await UploadAsync(azurite, files);
        var watch = new RecordWatch(store, batch);
        await pipeline.UntilAsync(async () => await watch.CountAsync() == files.Count, TimeSpan.FromSeconds(120),
            $"{files.Count} records from the ingest sweep", async () => $"{await watch.CountAsync()} records");
        double labelSeconds = clock.Elapsed.TotalSeconds;

        AuditResult audit = await RecordAudit.RunAsync(store, batch, files.Keys);
        audit.AssertClean();
        Assert.Equal((Photos, 3), (audit.Labeled, audit.Rejected));
        Assert.All(audit.Labels.Values, record => Assert.Equal(5, record.Top5.Count));
        Assert.Equal(
            ["Empty", "Truncated", "UnsupportedFormat"],
            audit.Rejections.Values.Select(r => r.Code).Order(StringComparer.Ordinal));

        // The summary comes from the LabelBatch orchestration, started through the HTTP API.
        JsonElement status = await pipeline.LabelBatchAsync(batch, "{\"pollSeconds\":1}", TimeSpan.FromSeconds(90));
        BatchSummary summary = status.GetProperty("summary").Deserialize<BatchSummary>(Web)!;
        Assert.Equal((files.Count, Photos, 3), (summary.Images, summary.Labeled, summary.Rejected));
        Assert.Equal(Photos, summary.Models["v1"]);
        Assert.Equal(0, watch.Rewritten);

        // The same files uploaded again: new versions of the same bytes. Every record is brought up to the new
        // upload (its ETag), none is added, and the labels stay what they were.
        Dictionary<string, string> newETags = await UploadAsync(azurite, files);
        await pipeline.UntilAsync(async () => await CoveredAsync(store, batch, files.Keys, newETags) == files.Count, TimeSpan.FromSeconds(120),
            "every record to cover the re-uploaded version", async () => $"{await CoveredAsync(store, batch, files.Keys, newETags)} of {files.Count} covered");
        AuditResult again = await RecordAudit.RunAsync(store, batch, files.Keys);
        again.AssertClean();
        Assert.Equal((Photos, 3), (again.Labeled, again.Rejected));
        Assert.All(audit.Labels, pair => Assert.Equal(
            pair.Value.Top5.Select(s => s.Label), again.Labels[pair.Key].Top5.Select(s => s.Label)));
        Assert.All(again.Labels.Values, record => Assert.Equal(audit.Labels[record.Image.Path].Image.Sha256, record.Image.Sha256));

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT alexnet pipeline: {files.Count} uploads (3 broken) recorded in {labelSeconds:F1} s from the first upload; summary {summary.Labeled} labeled, {summary.Rejected} rejected; re-upload covered, 0 duplicates"));
    }

    [Fact]
    public async Task KillingThePipelineProcessMidBatchAndStartingItAgainFinishesTheBatchWithNothingLostOrDuplicated()
    {
        int images = Soak.Int("PIPELINE_KILL_IMAGES", ci: 400, soak: 3000);
        await using var azurite = await PrivateAzurite.StartAsync();
        var store = new AzureBlobStore(new BlobServiceClient(azurite.ConnectionString), NullLogger<AzureBlobStore>.Instance);
        await TestModels.PromoteV1Async(store);
        string batch = Uploads.NewBatch("e2ekill");
        string[] names = await Uploads.UploadAsync(store, batch, images);
        var watch = new RecordWatch(store, batch);
        var clock = Stopwatch.StartNew();
        string taskHub = NewTaskHub(); // the same for both lives: the second finds the first one's orchestration

        // Both paths feed the worker here: each life's start-up sweep queues every upload once (the next sweep is an
        // hour away) and the orchestration sends its chunks, so the kill cuts labeling fed by both. What is checked is
        // the outcome: the orchestration of the first life completes in the second, every upload has one record and
        // none is written twice.
        int killedAt;
        await using (var first = await LocalPipeline.StartAsync(azurite, taskHub, sweepSeconds: 3600, output))
        {
            await first.StartBatchAsync(batch, "{\"chunkSize\":20,\"pollSeconds\":1,\"chunkTimeoutSeconds\":30}");
            await first.UntilAsync(async () => await watch.CountAsync() >= images / 4, TimeSpan.FromSeconds(120),
                $"{images / 4} records before the kill", async () => $"{await watch.CountAsync()} records");
            await first.KillAsync();
            killedAt = await watch.CountAsync();
        }
        Assert.InRange(killedAt, images / 4, images - 1);

        JsonElement status;
        await using (var second = await LocalPipeline.StartAsync(azurite, taskHub, sweepSeconds: 3600, output))
            status = await second.WaitForBatchAsync(batch, TimeSpan.FromSeconds(60 + images / 4));
        double seconds = clock.Elapsed.TotalSeconds;

        AuditResult audit = await RecordAudit.RunAsync(store, batch, names);
        await watch.CountAsync();
        Figures.From("alexnet pipeline killed mid-batch", 2, 1, audit with { Duplicates = audit.Duplicates + watch.Rewritten }, seconds,
            $"SIGKILL at {killedAt} records, chunks of 20").Report(output);
        audit.AssertClean();
        Assert.Equal(0, watch.Rewritten);
        BatchSummary summary = status.GetProperty("summary").Deserialize<BatchSummary>(Web)!;
        Assert.Equal((images, images, 0), (summary.Images, summary.Labeled, summary.Rejected));
    }

    private static string NewTaskHub() => "e2e" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Photos plus three broken files, by blob name under <c>incoming/</c>.</summary>
    private static Dictionary<string, byte[]> Files(string batch, int photos)
    {
        var files = Enumerable.Range(0, photos).ToDictionary(i => Uploads.Name(batch, i), i => Uploads.Photo(i), StringComparer.Ordinal);
        byte[] photo = Uploads.Photo(photos);
        files[$"{batch}/broken/truncated.jpg"] = photo[..(photo.Length / 3)];
        files[$"{batch}/broken/empty.jpg"] = [];
        files[$"{batch}/broken/notes.jpg"] = Encoding.UTF8.GetBytes("not an image, named like one");
        return files;
    }

    /// <summary>Uploads (overwriting) with the SDK, as a data team's script would; returns each blob's new ETag.</summary>
    private static async Task<Dictionary<string, string>> UploadAsync(PrivateAzurite azurite, IReadOnlyDictionary<string, byte[]> files)
    {
        var container = new BlobContainerClient(azurite.ConnectionString, PipelineNames.IncomingContainer);
        await container.CreateIfNotExistsAsync();
        var etags = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (file, token) =>
        {
            var response = await container.GetBlobClient(file.Key).UploadAsync(
                BinaryData.FromBytes(file.Value), new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "image/jpeg" } }, token);
            etags[file.Key] = response.Value.ETag.ToString();
        });
        return new Dictionary<string, string>(etags, StringComparer.Ordinal);
    }

    /// <summary>Images whose one record (label or rejected) names the upload's current ETag.</summary>
    private static async Task<int> CoveredAsync(IBlobStore store, string batch, IEnumerable<string> names, IReadOnlyDictionary<string, string> etags)
    {
        AuditResult audit = await RecordAudit.RunAsync(store, batch, names.ToList());
        return audit.Labels.Values.Select(r => r.Image).Concat(audit.Rejections.Values.Select(r => r.Image))
            .Count(image => etags.TryGetValue(image.Path, out string? etag) && ETagsMatch(etag, image.ETag));
    }

    private static bool ETagsMatch(string a, string b) => string.Equals(a.Trim('"'), b.Trim('"'), StringComparison.Ordinal);
}

/// <summary>The built <c>alexnet pipeline</c> command as a process, on a private Azurite, with its HTTP API.</summary>
internal sealed class LocalPipeline : IAsyncDisposable
{
    private readonly WorkerProcess process;
    private readonly HttpClient http;
    private readonly string log;
    private readonly ITestOutputHelper output;

    private LocalPipeline(WorkerProcess process, HttpClient http, string log, ITestOutputHelper output)
    {
        this.process = process;
        this.http = http;
        this.log = log;
        this.output = output;
    }

    /// <param name="ready">Wait for <c>/health/ready</c> (a model is loaded); without a promoted model, <c>/health/live</c>.</param>
    public static async Task<LocalPipeline> StartAsync(PrivateAzurite azurite, string taskHub, int sweepSeconds, ITestOutputHelper output, bool ready = true)
    {
        int port = PrivateAzurite.AnyFreePort();
        string log = Path.Combine(Path.GetTempPath(), $"alexnet-pipeline-test-{Guid.NewGuid():N}.log");
        string[] arguments =
        [
            "pipeline", "--storage", azurite.ConnectionString, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--task-hub", taskHub,
            "--sweep-seconds", sweepSeconds.ToString(CultureInfo.InvariantCulture),
        ];
        var environment = new Dictionary<string, string>
        {
            ["ALEXNET_Worker__Device"] = "cpu",
            // Messages of a killed worker come back after a short lock, not the default minute.
            ["ALEXNET_Messaging__LockDuration"] = "00:00:10",
            ["ALEXNET_Worker__LockRenewInterval"] = "00:00:03",
            ["ALEXNET_Durable__MessageVisibilityTimeout"] = "00:00:10",
        };
        var process = WorkerProcess.Start(Repository.CliAssembly, arguments, environment, log);
        var pipeline = new LocalPipeline(process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) }, log, output);
        try
        {
            string health = ready ? "health/ready" : "health/live";
            await pipeline.UntilAsync(async () => await pipeline.HealthyAsync(health), TimeSpan.FromSeconds(90), "/" + health, () => Task.FromResult("not yet"));
        }
        catch
        {
            await pipeline.DisposeAsync();
            throw;
        }
        return pipeline;
    }

    /// <summary>Polls <paramref name="condition"/>, failing with the command's log tail when time runs out or the process exits.</summary>
    public Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<Task<string>> state) =>
        Soak.UntilAsync(
            async () => process.HasExited ? throw new InvalidOperationException($"alexnet pipeline exited by itself: {await TailAsync()}") : await condition(),
            timeout, what, async () => $"{await state()}; {await TailAsync()}", TimeSpan.FromMilliseconds(200));

    /// <summary>The API's address, e.g. for a browser.</summary>
    public Uri BaseAddress => http.BaseAddress!;

    /// <summary>GETs from the API, asserts 200, and returns the response body.</summary>
    public async Task<JsonElement> GetAsync(string path)
    {
        using HttpResponseMessage response = await http.GetAsync(new Uri(path, UriKind.Relative));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Sends a request to the API (a JSON body when given) and returns what came back, whatever the status.</summary>
    public async Task<(int Status, string? ContentType, byte[] Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await http.SendAsync(request);
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsByteArrayAsync());
    }

    public async Task StartBatchAsync(string batch, string options)
    {
        using var content = new StringContent(options, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await http.PostAsync(new Uri($"api/batches/{batch}", UriKind.Relative), content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /api/batches/{batch}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>POSTs a JSON body to the API, asserts the status code, and returns the response body.</summary>
    public async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await http.PostAsync(new Uri(path, UriKind.Relative), content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"POST /{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Starts LabelBatch through the API and waits for it.</summary>
    public async Task<JsonElement> LabelBatchAsync(string batch, string options, TimeSpan timeout)
    {
        await StartBatchAsync(batch, options);
        return await WaitForBatchAsync(batch, timeout);
    }

    /// <summary>Polls GET /api/batches/{batch} until the orchestration completed and the summary is there; its body.</summary>
    public async Task<JsonElement> WaitForBatchAsync(string batch, TimeSpan timeout)
    {
        JsonElement last = default;
        await UntilAsync(async () =>
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri($"api/batches/{batch}", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.OK)
                return false;
            last = await response.Content.ReadFromJsonAsync<JsonElement>();
            string? state = last.GetProperty("state").ToString();
            Assert.False(state is "Failed" or "Terminated", $"batch {batch} ended {state}: {last}");
            return state == "Completed" && last.TryGetProperty("summary", out JsonElement summary) && summary.ValueKind == JsonValueKind.Object;
        }, timeout, $"batch {batch} to complete", () => Task.FromResult(last.ValueKind == JsonValueKind.Undefined ? "no status yet" : last.ToString()));
        return last;
    }

    /// <summary>The API's address, as <c>alexnet models --api</c> takes it.</summary>
    public Uri Address => http.BaseAddress!;

    public Task KillAsync() => process.KillAsync();

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync();
        http.Dispose();
        output.WriteLine(await TailAsync());
        File.Delete(log);
    }

    private async Task<bool> HealthyAsync(string path)
    {
        try
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri(path, UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private async Task<string> TailAsync()
    {
        if (!File.Exists(log))
            return "(no log)";
        string text;
        await using (var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
            text = await reader.ReadToEndAsync();
        return "alexnet pipeline log tail:\n" + string.Join('\n', text.Split('\n').TakeLast(30));
    }
}
