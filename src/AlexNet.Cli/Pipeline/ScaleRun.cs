using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Ingest;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Azure.Data.Tables;
using SkiaSharp;
using Spectre.Console;

namespace AlexNet.Cli.Pipeline;

/// <summary>
/// The pipeline at scale on this machine: a LabelBatch over many tiny uploads (the real orchestration, chunks, queue,
/// worker, records and report; the network is the bench's random-weight 64-pixel AlexNet, so the forward pass costs
/// little), then the upload stream over another set, ingested by the sweep. Measures wall time, the orchestration's
/// history (rows and bytes in the task hub's history table), the process's resident set, and blob and queue requests
/// per image by kind.
/// </summary>
internal sealed class ScaleRun(
    IBlobStore store, ModelRegistry models, IOrchestrationClient orchestrations, IngestSweeper sweeper, RequestCounter requests,
    LocalPipelineSettings settings, TimeProvider time, TextWriter output)
{
    /// <summary>Distinct tiny images; the uploads cycle through them under names of their own.</summary>
    private const int Variants = 64;

    private const int UploadParallelism = 32;

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    public sealed record Phase(
        string Name, int Images, int Labeled, double Seconds, double ImagesPerSecond, RequestCounts Requests, RequestCounts RequestsPerImage,
        long PeakWorkingSetBytes, long EndWorkingSetBytes, double UploadSeconds, long HistoryRows, long HistoryBytes, int Chunks, int Sweeps);

    public sealed record Result(string Model, DateTimeOffset MeasuredAt, int ChunkSize, int PollSeconds, Phase? Batch, Phase? UploadStream, long ProcessPeakWorkingSetBytes);

    private IBlobStore Uncounted => store is CountingBlobStore counting ? counting.Inner : store;

    public async Task<int> RunAsync(int batchImages, int streamImages, int chunkSize, int pollSeconds, bool json, CancellationToken cancellationToken)
    {
        var package = await PipelineBench.EnsureModelAsync(models, time, cancellationToken);
        byte[][] variants = TinyJpegs(Variants);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scale run: {batchImages} images by batch, {streamImages} by upload stream; {Variants} distinct 80x60 JPEGs of about {variants.Average(v => v.Length) / 1024:F1} KiB; model {package.Manifest.Version}"));
        string stamp = time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);

        Phase? batch = batchImages > 0 ? await BatchAsync($"scale-{stamp}", batchImages, variants, chunkSize, pollSeconds, cancellationToken) : null;
        Phase? stream = streamImages > 0 ? await StreamAsync($"scale-{stamp}-uploads", streamImages, variants, cancellationToken) : null;

        using var self = Process.GetCurrentProcess();
        var result = new Result(package.Manifest.Version, time.GetUtcNow(), chunkSize, pollSeconds, batch, stream, self.PeakWorkingSet64);
        if (json)
            output.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        else
            CliConsole.For(output).Write(Table(result));
        bool complete = (batch is null || batch.Labeled == batch.Images) && (stream is null || stream.Labeled == stream.Images);
        return complete ? 0 : CliApplication.Failure;
    }

    private async Task<Phase> BatchAsync(string batch, int count, byte[][] variants, int chunkSize, int pollSeconds, CancellationToken cancellationToken)
    {
        double uploadSeconds = await UploadAsync(batch, count, variants, cancellationToken);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"uploaded {count} to incoming/{batch}/ in {uploadSeconds:F1} s"));

        using var memory = new MemorySampler();
        RequestCounts before = requests.Snapshot();
        var clock = Stopwatch.StartNew();
        await orchestrations.StartLabelBatchAsync(
            new LabelBatchInput(batch, ChunkSize: chunkSize, PollSeconds: pollSeconds, ChunkTimeoutSeconds: 4 * 3600), cancellationToken);
        OrchestrationStatus status = await orchestrations.WaitForEndAsync(batch, Poll, time, cancellationToken);
        clock.Stop();
        RequestCounts used = requests.Snapshot() - before;
        if (status.State != OrchestrationState.Completed)
            throw new CliException($"scale batch {batch} ended {status.State}: {status.FailureMessage}");
        var summary = await Uncounted.DownloadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Summary), cancellationToken)
            ?? throw new CliException($"scale batch {batch} wrote no summary");
        int labeled = JsonSerializer.Deserialize(summary.Content.ToMemory().Span, LabelJsonContext.Default.BatchSummary)!.Labeled;
        var (rows, bytes) = await HistoryAsync(batch, cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch: {labeled} of {count} labeled in {seconds:F1} s ({labeled / seconds:F1} img/s); history {rows} rows, {bytes / 1024.0:F0} KiB"));
        return new Phase("batch", count, labeled, seconds, labeled / seconds, used, used.Per(Math.Max(labeled, 1)),
            memory.Peak, memory.Current, uploadSeconds, rows, bytes, (count + chunkSize - 1) / chunkSize, 0);
    }

    /// <summary>
    /// The upload stream: sweeps, as the local pipeline's sweep service runs them, until one ends complete; then waits for
    /// every record. Later sweeps would only send the uploads still unlabeled again.
    /// </summary>
    private async Task<Phase> StreamAsync(string batch, int count, byte[][] variants, CancellationToken cancellationToken)
    {
        double uploadSeconds = await UploadAsync(batch, count, variants, cancellationToken);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"uploaded {count} to incoming/{batch}/ in {uploadSeconds:F1} s"));

        using var memory = new MemorySampler();
        RequestCounts before = requests.Snapshot();
        var clock = Stopwatch.StartNew();
        int sweeps = 0;
        SweepResult swept;
        do
        {
            swept = await sweeper.SweepAsync(cancellationToken);
            sweeps++;
        }
        while (swept.Incomplete);

        int records;
        TimeSpan timeout = TimeSpan.FromSeconds(Math.Max(600, count / 10.0));
        while ((records = await BatchReport.CountLabelRecordsAsync(Uncounted, batch, cancellationToken)) < count)
        {
            if (clock.Elapsed > timeout)
                break;
            await Task.Delay(Poll, time, cancellationToken);
        }

        clock.Stop();
        RequestCounts used = requests.Snapshot() - before;
        double seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"upload stream: {records} of {count} labeled in {seconds:F1} s ({records / seconds:F1} img/s), {sweeps} sweeps"));
        return new Phase("upload stream", count, records, seconds, records / seconds, used, used.Per(Math.Max(records, 1)),
            memory.Peak, memory.Current, uploadSeconds, 0, 0, 0, sweeps);
    }

    private async Task<double> UploadAsync(string batch, int count, byte[][] variants, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = UploadParallelism, CancellationToken = cancellationToken }, async (i, ct) =>
            await Uncounted.CreateIfAbsentAsync(PipelineNames.IncomingContainer, string.Create(CultureInfo.InvariantCulture, $"{batch}/img-{i:D7}.jpg"),
                BinaryData.FromBytes(variants[i % variants.Length]), "image/jpeg", ct));
        return clock.Elapsed.TotalSeconds;
    }


    /// <summary>Rows and approximate bytes of the batch's orchestration history: its own instance and its chunk groups' (<c>&lt;batch&gt;:g0000</c>...).</summary>
    private async Task<(long Rows, long Bytes)> HistoryAsync(string batch, CancellationToken cancellationToken)
    {
        var table = new TableServiceClient(settings.ConnectionString).GetTableClient(settings.TaskHub + "History");
        long rows = 0, bytes = 0;
        string filter = $"PartitionKey eq '{batch}' or (PartitionKey ge '{batch}:' and PartitionKey lt '{batch};')";
        await foreach (TableEntity entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            rows++;
            foreach (var (key, value) in entity)
            {
                bytes += key.Length * 2;
                bytes += value switch
                {
                    string text => text.Length * 2,
                    byte[] data => data.Length,
                    null => 0,
                    _ => 8,
                };
            }
        }

        return (rows, bytes);
    }

    private static byte[][] TinyJpegs(int count)
    {
        var random = new Random(7);
        var images = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            using var bitmap = new SKBitmap(80, 60);
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
                using var paint = new SKPaint { IsAntialias = true, Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)) };
                canvas.DrawCircle(random.Next(80), random.Next(60), random.Next(8, 30), paint);
            }

            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
            images[i] = data.ToArray();
        }

        return images;
    }

    private static Table Table(Result result)
    {
        static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F0", CultureInfo.InvariantCulture) + " MiB";
        static string F(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);
        Phase[] phases = [.. new[] { result.Batch, result.UploadStream }.OfType<Phase>()];
        var table = new Table().Title($"the pipeline at scale (model {result.Model}, chunks of {result.ChunkSize}, polls every {result.PollSeconds} s)").AddColumn("measure");
        foreach (Phase phase in phases)
            table.AddColumn(new TableColumn(phase.Name).RightAligned());
        void Row(string name, Func<Phase, string> value) => table.AddRow([name, .. phases.Select(value)]);
        Row("images labeled / uploaded", p => $"{p.Labeled} / {p.Images}");
        Row("upload time (not in the wall time)", p => F(p.UploadSeconds, "F1") + " s");
        Row("wall time", p => F(p.Seconds, "F1") + " s");
        Row("img/s", p => F(p.ImagesPerSecond, "F1"));
        Row("chunks / sweeps", p => p.Chunks > 0 ? $"{p.Chunks} chunks" : $"{p.Sweeps} sweeps");
        Row("orchestration history", p => p.HistoryRows > 0 ? $"{p.HistoryRows} rows, {p.HistoryBytes / 1024} KiB" : "-");
        Row("resident set, peak / end of phase", p => $"{Mb(p.PeakWorkingSetBytes)} / {Mb(p.EndWorkingSetBytes)}");
        foreach (RequestKind kind in Enum.GetValues<RequestKind>())
        {
            if (phases.Any(p => p.Requests[kind] != 0))
                Row($"requests per image: {kind}", p => F(p.RequestsPerImage[kind]));
        }

        Row("requests per image: total", p => F(p.RequestsPerImage.Total));
        table.AddRow("process peak resident set", Mb(result.ProcessPeakWorkingSetBytes));
        return table;
    }

    /// <summary>The process's resident set, sampled every half second while it lives.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task sampling;
        private long peak;
        private long current;

        public MemorySampler()
        {
            Sample();
            sampling = Task.Run(async () =>
            {
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(500, stop.Token).ConfigureAwait(false);
                        Sample();
                    }
                }
                catch (OperationCanceledException)
                {
                    // stopped
                }
            });
        }

        public long Peak => Interlocked.Read(ref peak);

        public long Current
        {
            get
            {
                Sample();
                return Interlocked.Read(ref current);
            }
        }

        public void Dispose()
        {
            stop.Cancel();
            sampling.Wait();
            stop.Dispose();
        }

        private void Sample()
        {
            using var self = Process.GetCurrentProcess();
            long now = self.WorkingSet64;
            Interlocked.Exchange(ref current, now);
            long seen;
            while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
            {
            }
        }
    }
}
