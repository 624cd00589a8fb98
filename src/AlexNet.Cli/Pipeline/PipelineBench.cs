using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AlexNet.Cli.Commands;
using AlexNet.Model.Inference;
using AlexNet.Model.Network;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Resilience;
using AlexNet.Pipeline.Storage;
using Spectre.Console;

namespace AlexNet.Cli.Pipeline;

/// <summary>
/// The local pipeline against <c>alexnet label</c> on the same images and model, side by side in one process:
/// first the labeling engine straight from a folder into a folder, then the same files uploaded to
/// <c>incoming/&lt;batch&gt;/</c> and labeled through the LabelBatch orchestration, the label queue and the worker.
/// Pipeline time runs from the orchestration's start to its completion (uploads are the data team's time). Then the
/// upload stream: the same files under a new batch, ingested by the sweep as uploads arrive day to day. Both ways
/// report the blob and queue requests the pipeline made per labeled image, by kind, from the host's
/// <see cref="RequestCounter"/> (the durable engine's own history and queues are not among them).
/// </summary>
internal sealed class PipelineBench(
    IBlobStore store, ModelRegistry models, IOrchestrationClient orchestrations, IngestSweeper sweeper, RequestCounter requests, TimeProvider time, TextWriter output,
    ChaosInjector? chaos = null)
{
    private static readonly TimeSpan UploadStreamTimeout = TimeSpan.FromMinutes(10);

    public sealed record Result(
        int Images, int BatchSize, int ChunkSize, double LabelImagesPerSecond, double PipelineImagesPerSecond, double Ratio,
        double UploadStreamImagesPerSecond, double UploadStreamRatio, string Model, DateTimeOffset MeasuredAt,
        int Chunks, RequestCounts BatchRequests, RequestCounts BatchRequestsPerImage, RequestCounts UploadStreamRequests, RequestCounts UploadStreamRequestsPerImage,
        LatencyComparison? Latency = null);

    /// <summary>The batch with simulated service latency against the same batch without (<c>--bench-latency</c>).</summary>
    /// <param name="WithoutImagesPerSecond">The first pass without latency (the table's pipeline figure).</param>
    /// <param name="WithoutAgainImagesPerSecond">The pass without latency after the one with it.</param>
    /// <param name="Ratio">With latency over the pass without that came after it (target >= 0.8).</param>
    /// <param name="WorkerRatio">
    /// The worker's own throughput (images over the seconds of its runs, <see cref="WorkerRunMeter"/>) with latency over
    /// without (the pass after): what concurrency in the worker hides, without the orchestration's polls around it.
    /// </param>
    /// <param name="InjectedMillisecondsPerImage">The latency injected into the pass with it, all calls added up, per labeled image: what concurrency had to hide.</param>
    public sealed record LatencyComparison(
        string Profile, double WithoutImagesPerSecond, double WithoutAgainImagesPerSecond, double WithImagesPerSecond, double Ratio,
        double InjectedMillisecondsPerImage, RequestCounts RequestsPerImage, IReadOnlyList<OperationLatency> Operations,
        double WorkerWithoutImagesPerSecond, double WorkerWithImagesPerSecond, double WorkerRatio);

    /// <summary>One chaos operation's calls in the pass with latency and the latency injected into them, all together.</summary>
    public sealed record OperationLatency(string Operation, long Calls, long Delayed, double DelayedMilliseconds);

    private sealed record BatchPass(
        int Labeled, double Seconds, double ImagesPerSecond, RequestCounts Requests, TimeSpan InjectedLatency, IReadOnlyList<OperationLatency> Operations,
        double WorkerImagesPerSecond);

    /// <summary>The bench's own look at the results (counting records), kept out of the pipeline's request counts.</summary>
    private IBlobStore Uncounted => store is CountingBlobStore counting ? counting.Inner : store;

    public async Task<int> RunAsync(int count, int batchSize, int chunkSize, bool json, CancellationToken cancellationToken)
    {
        ModelPackage package = await EnsureModelAsync(models, time, cancellationToken);
        string work = Path.Combine(Path.GetTempPath(), $"alexnet-pipeline-bench-{Guid.NewGuid():N}");
        try
        {
            string images = BenchCommand.GenerateJpegs(Path.Combine(work, "images"), count);
            output.WriteLine($"{count} generated JPEGs (500x375); model {package.Manifest.Version}");

            using var classifier = new Classifier(package);
            var direct = await LabelRun.RunAsync(classifier, new LocalFolderBlobStore(Path.Combine(work, "out")), new FolderImageSource(images), "direct",
                new LabelingOptions { BatchSize = batchSize }, TextWriter.Null, cancellationToken, quiet: true);
            double labelRate = direct.Run.Statistics.Labeled / direct.Run.Statistics.Seconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alexnet label: {direct.Run.Statistics.Labeled} images in {direct.Run.Statistics.Seconds:F1} s, {labelRate:F1} img/s"));

            string batch = $"bench-{time.GetUtcNow():yyyyMMdd-HHmmss}";
            using var workerMeter = new WorkerRunMeter();
            BatchPass first = await BatchPassAsync(images, batch, chunkSize, withLatency: false, workerMeter, cancellationToken);
            int labeled = first.Labeled;
            double pipelineRate = first.ImagesPerSecond;
            RequestCounts batchRequests = first.Requests;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pipeline batch: {labeled} images in {first.Seconds:F1} s, {pipelineRate:F1} img/s (worker {first.WorkerImagesPerSecond:F1} img/s)"));

            LatencyComparison? latency = null;
            if (chaos is not null)
            {
                // The same images under new batch ids: with the latency on, then without again. The ratio takes the pass
                // after, not the first one: the first pays for warming up (the worker's first rounds, JIT), which would
                // flatter the ratio; a later pass meets a fuller Azurite, which can only lower it.
                BatchPass slow = await BatchPassAsync(images, batch + "-latency", chunkSize, withLatency: true, workerMeter, cancellationToken);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"pipeline batch with {chaos.Options.LatencyProfile} latency: {slow.Labeled} images in {slow.Seconds:F1} s, {slow.ImagesPerSecond:F1} img/s (worker {slow.WorkerImagesPerSecond:F1} img/s; {slow.InjectedLatency.TotalMilliseconds / Math.Max(slow.Labeled, 1):F0} ms of latency per image)"));
                BatchPass again = await BatchPassAsync(images, batch + "-again", chunkSize, withLatency: false, workerMeter, cancellationToken);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pipeline batch again without: {again.Labeled} images in {again.Seconds:F1} s, {again.ImagesPerSecond:F1} img/s (worker {again.WorkerImagesPerSecond:F1} img/s)"));
                latency = new LatencyComparison(
                    chaos.Options.LatencyProfile!, pipelineRate, again.ImagesPerSecond, slow.ImagesPerSecond, slow.ImagesPerSecond / again.ImagesPerSecond,
                    slow.InjectedLatency.TotalMilliseconds / Math.Max(slow.Labeled, 1), slow.Requests.Per(Math.Max(slow.Labeled, 1)), slow.Operations,
                    again.WorkerImagesPerSecond, slow.WorkerImagesPerSecond, slow.WorkerImagesPerSecond / again.WorkerImagesPerSecond);
                labeled = Math.Min(labeled, Math.Min(slow.Labeled, again.Labeled));
            }

            var (streamRate, streamRequests) = await UploadStreamAsync(images, batch + "-uploads", count, cancellationToken);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"upload stream: {count} images, {streamRate:F1} img/s"));

            var result = new Result(
                count, batchSize, chunkSize, labelRate, pipelineRate, pipelineRate / labelRate, streamRate, streamRate / labelRate,
                package.Manifest.Version, time.GetUtcNow(), (count + chunkSize - 1) / chunkSize,
                batchRequests, batchRequests.Per(Math.Max(labeled, 1)), streamRequests, streamRequests.Per(count), latency);
            if (json)
            {
                output.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            }
            else
            {
                var table = new Table().Title("local pipeline against alexnet label, same images and model").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
                table.AddRow("alexnet label (folder to folder)", string.Create(CultureInfo.InvariantCulture, $"{labelRate:F1} img/s"));
                table.AddRow("pipeline (orchestration, queue, worker, Azurite)", string.Create(CultureInfo.InvariantCulture, $"{pipelineRate:F1} img/s ({labeled} labeled in {first.Seconds:F1} s)"));
                table.AddRow("ratio pipeline / label (target >= 0.80)", result.Ratio.ToString("F3", CultureInfo.InvariantCulture));
                if (latency is not null)
                {
                    table.AddRow("pipeline again without latency (after the pass with it)", string.Create(CultureInfo.InvariantCulture, $"{latency.WithoutAgainImagesPerSecond:F1} img/s"));
                    table.AddRow(string.Create(CultureInfo.InvariantCulture, $"pipeline with {latency.Profile} latency ({latency.InjectedMillisecondsPerImage:F0} ms injected per image)"),
                        string.Create(CultureInfo.InvariantCulture, $"{latency.WithImagesPerSecond:F1} img/s"));
                    table.AddRow("ratio with latency / without, batch wall time (the pass after)", latency.Ratio.ToString("F3", CultureInfo.InvariantCulture));
                    table.AddRow("worker alone (images / seconds of its runs): without, with latency",
                        string.Create(CultureInfo.InvariantCulture, $"{latency.WorkerWithoutImagesPerSecond:F1}, {latency.WorkerWithImagesPerSecond:F1} img/s"));
                    table.AddRow("ratio with latency / without, worker (target >= 0.80)", latency.WorkerRatio.ToString("F3", CultureInfo.InvariantCulture));
                }
                table.AddRow("upload stream (ingest sweep, a message per slice of a batch, worker)", string.Create(CultureInfo.InvariantCulture, $"{streamRate:F1} img/s"));
                table.AddRow("ratio upload stream / label", result.UploadStreamRatio.ToString("F3", CultureInfo.InvariantCulture));
                CliConsole.For(output).Write(table);
                CliConsole.For(output).Write(RequestTable(result));
            }
            return labeled == count ? 0 : CliApplication.Failure;
        }
        finally
        {
            if (Directory.Exists(work))
                Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The images uploaded to <c>incoming/&lt;batch&gt;/</c> (untimed, never delayed), then labeled by the LabelBatch
    /// orchestration, timed from its start to its end, with the chaos latency on or off for that time.
    /// </summary>
    private async Task<BatchPass> BatchPassAsync(
        string images, string batch, int chunkSize, bool withLatency, WorkerRunMeter workerMeter, CancellationToken cancellationToken)
    {
        await UploadAsync(images, batch, cancellationToken);

        RequestCounts before = requests.Snapshot();
        TimeSpan delayedBefore = chaos?.Statistics.DelayTime ?? TimeSpan.Zero;
        var operationsBefore = (chaos?.Statistics.Snapshot() ?? []).ToDictionary(o => o.Operation, StringComparer.Ordinal);
        var workerBefore = workerMeter.Snapshot();
        if (chaos is not null)
            chaos.Active = withLatency;
        var clock = Stopwatch.StartNew();
        OrchestrationStatus status;
        try
        {
            await orchestrations.StartLabelBatchAsync(new LabelBatchInput(batch, ChunkSize: chunkSize, PollSeconds: 1, ChunkTimeoutSeconds: 600), cancellationToken);
            status = await orchestrations.WaitForEndAsync(batch, TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }
        finally
        {
            clock.Stop();
            if (chaos is not null)
                chaos.Active = false;
        }
        RequestCounts batchRequests = requests.Snapshot() - before;
        var workerAfter = workerMeter.Snapshot();
        double workerSeconds = workerAfter.Seconds - workerBefore.Seconds;
        double workerRate = workerSeconds > 0 ? (workerAfter.Labeled - workerBefore.Labeled) / workerSeconds : 0;
        TimeSpan injected = (chaos?.Statistics.DelayTime ?? TimeSpan.Zero) - delayedBefore;
        List<OperationLatency> operations = [.. (chaos?.Statistics.Snapshot() ?? []).Select(after =>
        {
            ChaosOperationStatistics? was = operationsBefore.GetValueOrDefault(after.Operation);
            return new OperationLatency(after.Operation, after.Calls - (was?.Calls ?? 0), after.Delays - (was?.Delays ?? 0),
                (after.DelayTime - (was?.DelayTime ?? TimeSpan.Zero)).TotalMilliseconds);
        }).Where(o => o.Calls > 0)];
        if (status.State != OrchestrationState.Completed)
            throw new CliException($"pipeline batch {batch} ended {status.State}: {status.FailureMessage}");
        var summary = await Uncounted.DownloadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Summary), cancellationToken)
            ?? throw new CliException($"pipeline batch {batch} wrote no summary");
        int labeled = JsonSerializer.Deserialize(summary.Content.ToMemory().Span, LabelJsonContext.Default.BatchSummary)!.Labeled;
        return new BatchPass(labeled, clock.Elapsed.TotalSeconds, labeled / clock.Elapsed.TotalSeconds, batchRequests, injected, operations, workerRate);
    }

    /// <summary>Requests per labeled image by kind, the kinds neither way used left out.</summary>
    private static Table RequestTable(Result result)
    {
        var table = new Table()
            .Title(string.Create(CultureInfo.InvariantCulture, $"blob and queue requests per labeled image (batch: {result.Chunks} chunks of up to {result.ChunkSize})"))
            .AddColumn("kind").AddColumn(new TableColumn("batch").RightAligned()).AddColumn(new TableColumn("upload stream").RightAligned());
        static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
        foreach (RequestKind kind in Enum.GetValues<RequestKind>())
        {
            if (result.BatchRequests[kind] != 0 || result.UploadStreamRequests[kind] != 0)
                table.AddRow(kind.ToString(), Format(result.BatchRequestsPerImage[kind]), Format(result.UploadStreamRequestsPerImage[kind]));
        }
        table.AddRow("blob, all kinds", Format(result.BatchRequestsPerImage.Blob), Format(result.UploadStreamRequestsPerImage.Blob));
        table.AddRow("queue, all kinds", Format(result.BatchRequestsPerImage.Queue), Format(result.UploadStreamRequestsPerImage.Queue));
        table.AddRow("total", Format(result.BatchRequestsPerImage.Total), Format(result.UploadStreamRequestsPerImage.Total));
        return table;
    }

    /// <summary>
    /// The other way in: the same files uploaded under a new batch, ingested by the sweep (standing in for the upload
    /// events; it sends them in messages of up to <c>Ingest:SweepImagesPerMessage</c>) and labeled by the worker. Timed,
    /// and its requests counted, from the first sweep to the last record.
    /// </summary>
    private async Task<(double ImagesPerSecond, RequestCounts Requests)> UploadStreamAsync(string images, string batch, int count, CancellationToken cancellationToken)
    {
        await UploadAsync(images, batch, cancellationToken);

        RequestCounts before = requests.Snapshot();
        var clock = Stopwatch.StartNew();
        while ((await sweeper.SweepAsync(cancellationToken)).Incomplete)
        {
        }
        int records;
        while ((records = await BatchReport.CountLabelRecordsAsync(Uncounted, batch, cancellationToken)) < count)
        {
            if (clock.Elapsed > UploadStreamTimeout)
                throw new CliException($"upload stream: {records} of {count} images labeled after {UploadStreamTimeout.TotalMinutes:F0} minutes");
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }
        clock.Stop();
        return (count / clock.Elapsed.TotalSeconds, requests.Snapshot() - before);
    }

    /// <summary>The generated files into <c>incoming/&lt;batch&gt;/</c>, as a data team would upload them (untimed).</summary>
    private Task UploadAsync(string images, string batch, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(Directory.GetFiles(images), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (file, ct) =>
            await store.CreateIfAbsentAsync(PipelineNames.IncomingContainer, $"{batch}/{Path.GetFileName(file)}", BinaryData.FromBytes(await File.ReadAllBytesAsync(file, ct)), "image/jpeg", ct));


    /// <summary>The promoted model; with none promoted, a random-weight 64x64 network is published and promoted (speed does not depend on the weights).</summary>
    internal static async Task<ModelPackage> EnsureModelAsync(ModelRegistry models, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await models.LoadCurrentAsync(cancellationToken) is { } current)
            return current;
        using var network = AlexNetFactory.Create(new AlexNetOptions { Classes = 10, InputSize = 64, Seed = 1 });
        var package = ModelPackage.Create(new ModelManifest
        {
            Version = "bench-random-64",
            Classes = Enumerable.Range(0, 10).Select(i => $"class-{i}").ToArray(),
            InputSize = 64,
            BaseSize = 72,
            Mean = [124f, 116f, 104f],
            WeightsSha256 = "pending",
            CreatedAt = time.GetUtcNow(),
        }, network);
        await models.PublishAsync(package, cancellationToken);
        await models.PromoteAsync(package.Manifest.Version, "pipeline benchmark: no model was promoted", cancellationToken);
        return package;
    }
}
