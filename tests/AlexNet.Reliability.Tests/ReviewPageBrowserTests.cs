using AlexNet.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using AlexNet.Reliability.Tests.Fixtures;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// The review page as a reviewer uses it: <c>alexnet pipeline</c> labels a batch, headless Chromium (Debian's
/// <c>chromium</c>, driven by <c>playwright-core</c> from npm through <c>tests/browser/review.mjs</c>) opens the page and
/// decides five images with the keyboard alone, and storage shows the decisions and the training copies.
/// </summary>
public sealed class ReviewPageBrowserTests(ITestOutputHelper output)
{
    private const int Photos = 12;
    private const string Reviewer = "browser-test";

    /// <summary>Where scripts/test.sh collects test results: the screenshot is kept there.</summary>
    private static string Screenshot => Path.Combine(Repository.Root, "artifacts", "test-results", "review-page.png");

    [Fact]
    public async Task FiveImagesReviewedWithTheKeyboardBecomeFiveRecordsAndTrainingCopiesOfTheClassDecisionsOnly()
    {
        string chromium = RequireBrowser();
        var clock = Stopwatch.StartNew();
        await using var azurite = await PrivateAzurite.StartAsync();
        var store = new AzureBlobStore(new BlobServiceClient(azurite.ConnectionString), NullLogger<AzureBlobStore>.Instance);
        await TestModels.PromoteV1Async(store);
        string batch = Uploads.NewBatch("review");
        string dataset = "reviewed-" + batch[^6..];
        string[] names = await Uploads.UploadAsync(store, batch, Photos);

        await using var pipeline = await LocalPipeline.StartAsync(azurite, "rv" + Guid.NewGuid().ToString("N")[..12], sweepSeconds: 1, output);
        var watch = new RecordWatch(store, batch);
        await pipeline.UntilAsync(async () => await watch.CountAsync() == Photos, TimeSpan.FromSeconds(120),
            $"{Photos} label records", async () => $"{await watch.CountAsync()} records");
        AuditResult audit = await RecordAudit.RunAsync(store, batch, names);
        audit.AssertClean();

        // Review about two thirds of the batch: the threshold sits between the 8th and 9th lowest top-1.
        double[] top1 = [.. audit.Labels.Values.Select(r => r.Top5[0].Probability).Order()];
        double minConfidence = (top1[7] + top1[8]) / 2;
        int toReview = top1.Count(p => p < minConfidence);
        Assert.InRange(toReview, 6, 8);
        await pipeline.LabelBatchAsync(batch, string.Create(CultureInfo.InvariantCulture, $"{{\"pollSeconds\":1,\"minConfidence\":{minConfidence:R}}}"), TimeSpan.FromSeconds(120));

        // The order the page shows (lowest top-1 first), read through the API the page calls.
        JsonElement list = await pipeline.GetAsync($"api/review/{batch}?state=pending");
        JsonElement[] items = [.. list.GetProperty("items").EnumerateArray()];
        Assert.Equal(toReview, items.Length);
        JsonElement progress = list.GetProperty("progress");
        Assert.Equal((Photos, toReview, 0), (progress.GetProperty("labeled").GetInt32(), progress.GetProperty("toReview").GetInt32(), progress.GetProperty("reviewed").GetInt32()));
        string firstClass = list.GetProperty("modelClasses").GetProperty("v1")[0].GetString()!;
        string Top(int item, int rank) => items[item].GetProperty("top5")[rank].GetProperty("label").GetString()!;

        // 1 confirms the top-1, 2 and 3 pick the 2nd and 3rd of the top-5, n is none of these, j skips an image, and
        // o opens the list of every class, where ArrowDown picks the first.
        string[] keys = ["1", "2", "n", "j", "o", "ArrowDown", "3"];
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PathOf(items[0])] = Top(0, 0),
            [PathOf(items[1])] = Top(1, 1),
            [PathOf(items[2])] = ReviewOutcome.None,
            [PathOf(items[4])] = firstClass,
            [PathOf(items[5])] = Top(5, 2),
        };
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Screenshot)!);
        File.Delete(Screenshot);
        var page = new Uri(pipeline.BaseAddress, $"api/review?batch={Uri.EscapeDataString(batch)}&reviewer={Reviewer}&dataset={dataset}");
        JsonElement shown = await RunBrowserAsync(chromium, page, keys);
        output.WriteLine($"page: {shown}");
        Assert.True(File.Exists(Screenshot) && new FileInfo(Screenshot).Length > 10_000, $"no screenshot at {Screenshot}");
        Assert.Equal(expected.Keys, shown.GetProperty("decisions").EnumerateArray().Select(d => d.GetProperty("path").GetString()!));
        Assert.Contains($"{toReview - 5} to review, 5 reviewed", shown.GetProperty("progress").GetString(), StringComparison.Ordinal);

        // Storage: one record per decision, and training/<dataset>/ grew by the class decisions, not by "none".
        var records = new Dictionary<string, ReviewRecord>(StringComparer.Ordinal);
        await foreach (BlobEntry entry in store.ListAsync(LabelPaths.LabelsContainer, $"{batch}/{LabelPaths.ReviewsFolder}/"))
        {
            BlobDownload download = (await store.DownloadAsync(LabelPaths.LabelsContainer, entry.Name))!;
            ReviewRecord record = JsonSerializer.Deserialize(download.Content.ToMemory().Span, LabelJsonContext.Default.ReviewRecord)!;
            records.Add(record.Path, record);
            Assert.Equal(LabelPaths.ReviewRecord(batch, record.Path), entry.Name);
        }
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), records.Select(r => KeyValuePair.Create(r.Key, r.Value.Decision)).OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.All(records.Values, r => Assert.Equal((Reviewer, "v1"), (r.Reviewer, r.ModelVersion)));
        Assert.All(records.Values, r => Assert.Equal(
            r.Decision == ReviewOutcome.None ? ReviewOutcome.None : r.Decision == r.ModelTop1.Label ? ReviewOutcome.Confirmed : ReviewOutcome.Corrected, r.Outcome));

        var training = new List<string>();
        await foreach (BlobEntry entry in store.ListAsync(PipelineNames.TrainingContainer, dataset + "/"))
            training.Add(entry.Name);
        string[] copies = [.. expected.Where(p => p.Value != ReviewOutcome.None)
            .Select(p => PipelineApi.TrainingBlobName(dataset, p.Value, batch, p.Key)).Order(StringComparer.Ordinal)];
        Assert.Equal(4, copies.Length);
        Assert.Equal(copies, training.Order(StringComparer.Ordinal));
        foreach (string copy in copies)
        {
            IReadOnlyDictionary<string, string> provenance = (await store.GetMetadataAsync(PipelineNames.TrainingContainer, copy))!;
            ReviewRecord record = records.Values.Single(r => r.TrainingBlob == copy);
            Assert.Equal((batch, Reviewer, Uri.EscapeDataString($"{PipelineNames.IncomingContainer}/{batch}/{record.Path}")),
                (provenance["batch"], provenance["reviewer"], provenance["source"]));
            BlobDownload bytes = (await store.DownloadAsync(PipelineNames.TrainingContainer, copy))!;
            Assert.Equal(record.Source.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.Content.ToArray())));
        }
        await LocalRoutesAnswerAsTheFunctionsAppDoesAsync(pipeline, batch, dataset, items, expected);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT review page: {toReview} of {Photos} to review, 5 decided with the keyboard, {copies.Length} training copies, {clock.Elapsed.TotalSeconds:F1} s; screenshot {Screenshot}"));
    }

    /// <summary>
    /// The review routes of <c>alexnet pipeline</c> (LocalPipelineHost) after the page's decisions: the lists by state,
    /// an image, a decision's refusals and a repeated decision, and the exports of the review list.
    /// </summary>
    private static async Task LocalRoutesAnswerAsTheFunctionsAppDoesAsync(
        LocalPipeline pipeline, string batch, string dataset, JsonElement[] items, IReadOnlyDictionary<string, string> decided)
    {
        var (status, type, body) = await pipeline.SendAsync(HttpMethod.Get, "api/review");
        Assert.Equal((200, "text/html"), (status, type));
        Assert.Contains("<title>Review labels</title>", System.Text.Encoding.UTF8.GetString(body), StringComparison.Ordinal);

        JsonElement reviewed = await pipeline.GetAsync($"api/review/{batch}?state=reviewed&order=margin");
        Assert.Equal(decided.Keys.Order(StringComparer.Ordinal), reviewed.GetProperty("items").EnumerateArray().Select(PathOf).Order(StringComparer.Ordinal));
        Assert.All(reviewed.GetProperty("items").EnumerateArray(), item =>
            Assert.Equal(decided[PathOf(item)], item.GetProperty("review").GetProperty("decision").GetString()));
        Assert.Equal(items.Length - decided.Count, (await pipeline.GetAsync($"api/review/{batch}?state=pending")).GetProperty("total").GetInt32());
        string label = items[0].GetProperty("top5")[0].GetProperty("label").GetString()!;
        JsonElement filtered = await pipeline.GetAsync($"api/review/{batch}?label={label}");
        Assert.All(filtered.GetProperty("items").EnumerateArray(), item => Assert.Equal(label, item.GetProperty("top5")[0].GetProperty("label").GetString()));
        Assert.Equal(items.Count(i => i.GetProperty("top5")[0].GetProperty("label").GetString() == label), filtered.GetProperty("total").GetInt32());

        (status, type, body) = await pipeline.SendAsync(HttpMethod.Get, $"api/review/{batch}/images/{PathOf(items[0])}");
        Assert.Equal((200, "image/jpeg"), (status, type));
        Assert.Equal(items[0].GetProperty("path").GetString() is { } first ? Uploads.Photo(int.Parse(first[^9..^4], CultureInfo.InvariantCulture)) : null, body);
        Assert.Equal(404, (await pipeline.SendAsync(HttpMethod.Get, $"api/review/{batch}/images/{batch}/no-such.jpg")).Status);
        Assert.Equal(400, (await pipeline.SendAsync(HttpMethod.Get, $"api/review/{batch}?order=newest")).Status);

        // Refused: a class the model does not have, no reviewer, a class without a training set, no body.
        string path = PathOf(items[3]);
        string route = $"api/review/{batch}/decisions/{path}";
        Assert.Equal(400, (await pipeline.SendAsync(HttpMethod.Post, route, $"{{\"decision\":\"giraffe\",\"reviewer\":\"{Reviewer}\",\"dataset\":\"{dataset}\"}}")).Status);
        Assert.Equal(400, (await pipeline.SendAsync(HttpMethod.Post, route, $"{{\"decision\":\"none\"}}")).Status);
        Assert.Equal(400, (await pipeline.SendAsync(HttpMethod.Post, route, $"{{\"decision\":\"class-1\",\"reviewer\":\"{Reviewer}\"}}")).Status);
        Assert.Equal(400, (await pipeline.SendAsync(HttpMethod.Post, route, "")).Status);
        Assert.Equal(404, (await pipeline.SendAsync(HttpMethod.Post, $"api/review/{batch}/decisions/{batch}/no-such.jpg", "{\"decision\":\"none\",\"reviewer\":\"x\"}")).Status);
        Assert.Equal(0, (await pipeline.GetAsync($"api/review/{batch}?state=reviewed")).GetProperty("total").GetInt32() - decided.Count);

        // The same class decided twice through the API: one training copy.
        string body1 = $"{{\"decision\":\"class-1\",\"reviewer\":\"{Reviewer}\",\"dataset\":\"{dataset}\"}}";
        JsonElement once = await pipeline.PostAsync(route, body1, System.Net.HttpStatusCode.OK);
        JsonElement twice = await pipeline.PostAsync(route, body1, System.Net.HttpStatusCode.OK);
        Assert.Equal(once.GetProperty("trainingBlob").GetString(), twice.GetProperty("trainingBlob").GetString());
        Assert.Equal(PipelineApi.TrainingBlobName(dataset, "class-1", batch, path), twice.GetProperty("trainingBlob").GetString());

        // The review list for the labeling tools.
        (status, type, body) = await pipeline.SendAsync(HttpMethod.Get, $"api/export/{batch}/label-studio?review=true");
        Assert.Equal((200, "application/json"), (status, type));
        using (JsonDocument tasks = JsonDocument.Parse(body))
            Assert.Equal(items.Length, tasks.RootElement.GetArrayLength());
        (status, type, body) = await pipeline.SendAsync(HttpMethod.Get, $"api/export/{batch}/cvat?review=true");
        Assert.Equal((200, "application/xml"), (status, type));
        var cvatImages = System.Xml.Linq.XDocument.Parse(System.Text.Encoding.UTF8.GetString(body)).Root!.Elements("image").ToList();
        Assert.Equal(items.Length, cvatImages.Count);
        Assert.All(cvatImages, i => Assert.Equal(("96", "80"), (i.Attribute("width")?.Value, i.Attribute("height")?.Value))); // the uploads' JPEG headers
    }

    private static string PathOf(JsonElement item) => item.GetProperty("path").GetString()!;

    /// <summary>The browser and its driver, or a failure that says how to install them: the test never passes without them.</summary>
    private static string RequireBrowser()
    {
        string chromium = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } named ? named : "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: the review page is tested in headless Chromium (apt-get install chromium; scripts/test.sh installs it)");
        string driver = System.IO.Path.Combine(Repository.Root, "node_modules", "playwright-core", "package.json");
        Assert.True(File.Exists(driver), $"{driver} is missing: run npm ci in {Repository.Root} (package.json lists playwright-core)");
        return chromium;
    }

    private async Task<JsonElement> RunBrowserAsync(string chromium, Uri page, IEnumerable<string> keys)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        start.ArgumentList.Add(System.IO.Path.Combine(Repository.Root, "tests", "browser", "review.mjs"));
        start.ArgumentList.Add(page.AbsoluteUri);
        start.ArgumentList.Add(Screenshot);
        foreach (string key in keys)
            start.ArgumentList.Add(key);
        start.Environment["CHROMIUM"] = chromium;

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"node could not be started ({e.Message}): the browser test needs Node.js on PATH", e);
        }
        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"tests/browser/review.mjs ran over 60 s: {await stderr}");
            }
            string error = await stderr;
            if (error.Length > 0)
                output.WriteLine(error);
            Assert.True(process.ExitCode == 0, $"tests/browser/review.mjs exited {process.ExitCode}: {error.Trim()}");
            return JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]).RootElement.Clone();
        }
    }
}
