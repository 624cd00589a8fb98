using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Labeling;

/// <summary>
/// Writes the batch files downstream apps read: <c>labels.jsonl</c>, <c>labels.csv</c>, <c>review.jsonl</c> and
/// <c>summary.json</c>. An orchestrated batch is reported from its chunks' record files
/// (<see cref="WriteFromChunksAsync"/>: one read per chunk, the files streamed out a chunk at a time, so memory does
/// not grow with the batch); otherwise, and for chunks written before those files existed, from every label and
/// rejected record of the batch in storage (<see cref="WriteAsync"/>: one read per record).
/// </summary>
public sealed partial class BatchReport(IBlobStore store, TimeProvider time, ILogger<BatchReport>? logger = null)
{
    public const int HistogramBins = 10;

    /// <summary>Chunk record files read ahead of the one being written out.</summary>
    private const int ChunkReadAhead = 8;

    /// <summary>
    /// Reports the images of an orchestrated batch from the record files of its chunks <c>0 .. chunks - 1</c>
    /// (<see cref="ChunkRecords"/>), in their order; returns null, writing nothing, when a chunk has no record file
    /// (its worker was built before them), so the caller reports from the records instead. Covers exactly the images
    /// the batch listed; a record left by an image deleted before the batch ran is not reported.
    /// </summary>
    public async Task<BatchSummary?> WriteFromChunksAsync(string batch, int chunks, double minConfidence, LabelRunStatistics? lastRun = null, CancellationToken cancellationToken = default)
    {
        LabelPaths.ValidateBatch(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        var present = new HashSet<string>(StringComparer.Ordinal);
        await foreach (BlobEntry entry in store.ListAsync(PipelineNames.RunsContainer, PipelineNames.ChunkPrefix(batch), cancellationToken).ConfigureAwait(false))
            present.Add(entry.Name);
        int missing = Enumerable.Range(0, chunks).Count(i => !present.Contains(PipelineNames.ChunkRecordsBlob(batch, PipelineNames.ChunkId(i))));
        if (missing > 0)
        {
            if (logger is not null)
                LogNoChunkRecords(logger, batch, missing, chunks);
            return null;
        }

        Totals totals = null!;
        await WriteFilesAsync(batch, minConfidence, async (files, token) =>
        {
            totals = new Totals();
            await foreach (ChunkRecords chunk in ReadChunksAsync(batch, chunks, token).ConfigureAwait(false))
                await files.AddAsync(totals, chunk.Labels, chunk.Rejected, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return await PutSummaryAsync(batch, minConfidence, totals, lastRun, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reports every label and rejected record of the batch in storage, in path order: right however many runs,
    /// workers or redeliveries wrote them, at one read per record and the records held in memory.
    /// </summary>
    public async Task<BatchSummary> WriteAsync(string batch, double minConfidence, LabelRunStatistics? lastRun = null, CancellationToken cancellationToken = default)
    {
        LabelPaths.ValidateBatch(batch);
        var labels = await ReadAllAsync(LabelPaths.LabelsContainer, batch, LabelJsonContext.Default.LabelRecord, cancellationToken).ConfigureAwait(false);
        var rejected = await ReadAllAsync(LabelPaths.RejectedContainer, batch, LabelJsonContext.Default.RejectedRecord, cancellationToken).ConfigureAwait(false);
        labels.Sort((a, b) => string.CompareOrdinal(a.Image.Path, b.Image.Path));
        rejected.Sort((a, b) => string.CompareOrdinal(a.Image.Path, b.Image.Path));

        // A path rejected once and labeled later (a fixed upload) counts as labeled.
        var labeledPaths = labels.Select(l => l.Image.Path).ToHashSet(StringComparer.Ordinal);
        rejected.RemoveAll(r => labeledPaths.Contains(r.Image.Path));

        Totals totals = null!;
        await WriteFilesAsync(batch, minConfidence, async (files, token) =>
        {
            totals = new Totals();
            await files.AddAsync(totals, labels, rejected, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return await PutSummaryAsync(batch, minConfidence, totals, lastRun, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <c>labels.jsonl</c>, <c>review.jsonl</c> and <c>labels.csv</c> side by side from what <paramref name="fill"/> adds.</summary>
    private Task WriteFilesAsync(string batch, double minConfidence, Func<OutputFiles, CancellationToken, Task> fill, CancellationToken cancellationToken) =>
        store.UploadStreamingAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.LabelsJsonl), (jsonl, t1) =>
            store.UploadStreamingAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Review), (review, t2) =>
                store.UploadStreamingAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.LabelsCsv), async (csv, t3) =>
                {
                    await csv.WriteAsync(CsvHeader, t3).ConfigureAwait(false);
                    await fill(new OutputFiles(jsonl, review, csv, minConfidence), t3).ConfigureAwait(false);
                }, "text/csv", t2), "application/x-ndjson", t1), "application/x-ndjson", cancellationToken);

    private async Task<BatchSummary> PutSummaryAsync(string batch, double minConfidence, Totals totals, LabelRunStatistics? lastRun, CancellationToken token)
    {
        var summary = new BatchSummary(
            batch,
            totals.Labeled + totals.Rejected,
            totals.Labeled,
            totals.Rejected,
            totals.NeedsReview,
            Ordered(totals.Models),
            Ordered(totals.Top1),
            totals.Histogram,
            Ordered(totals.RejectionCodes),
            minConfidence,
            totals.FirstLabeledAt,
            totals.LastLabeledAt,
            time.GetUtcNow(),
            lastRun);
        await store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, LabelPaths.Summary),
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(summary, LabelJsonContext.Default.BatchSummary)), "application/json", cancellationToken: token).ConfigureAwait(false);
        return summary;
    }

    /// <summary>The chunks' record files in chunk order, up to <see cref="ChunkReadAhead"/> read ahead.</summary>
    private async IAsyncEnumerable<ChunkRecords> ReadChunksAsync(string batch, int chunks, [EnumeratorCancellation] CancellationToken token)
    {
        var window = new Queue<Task<ChunkRecords>>();
        int next = 0;
        try
        {
            while (next < chunks && window.Count < ChunkReadAhead)
                window.Enqueue(ReadChunkAsync(batch, PipelineNames.ChunkId(next++), token));
            while (window.Count > 0)
            {
                ChunkRecords chunk = await window.Dequeue().ConfigureAwait(false);
                if (next < chunks)
                    window.Enqueue(ReadChunkAsync(batch, PipelineNames.ChunkId(next++), token));
                yield return chunk;
            }
        }
        finally
        {
            // Stopped early (a failed write): no read is left running unobserved.
            foreach (Task<ChunkRecords> pending in window)
                await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<ChunkRecords> ReadChunkAsync(string batch, string chunk, CancellationToken token)
    {
        string name = PipelineNames.ChunkRecordsBlob(batch, chunk);
        BlobDownload download = await store.DownloadAsync(PipelineNames.RunsContainer, name, token).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"runs/{name} disappeared while the report of batch {batch} was written; writing it again reads the records instead.");
        return JsonSerializer.Deserialize(download.Content.ToMemory().Span, LabelJsonContext.Default.ChunkRecords)
            ?? throw new InvalidOperationException($"runs/{name} is empty.");
    }

    private async Task<List<T>> ReadAllAsync<T>(string container, string batch, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken token)
    {
        var names = new List<string>();
        await foreach (BlobEntry entry in store.ListAsync(container, batch + "/", token).ConfigureAwait(false))
        {
            if (IsRecord(batch, entry.Name))
                names.Add(entry.Name);
        }

        var records = new T[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = token }, async (i, ct) =>
        {
            BlobDownload? download = await store.DownloadAsync(container, names[i], ct).ConfigureAwait(false);
            if (download is not null)
                records[i] = JsonSerializer.Deserialize(download.Content.ToMemory().Span, type)!;
        }).ConfigureAwait(false);
        return records.Where(r => r is not null).ToList();
    }

    /// <summary>How many label records <c>labels/&lt;batch&gt;/</c> holds now (one listing; nothing is read).</summary>
    public static async Task<int> CountLabelRecordsAsync(IBlobStore store, string batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        int records = 0;
        await foreach (BlobEntry entry in store.ListAsync(LabelPaths.LabelsContainer, batch + "/", cancellationToken).ConfigureAwait(false))
        {
            if (IsRecord(batch, entry.Name))
                records++;
        }
        return records;
    }

    /// <summary>A blob of a batch's record folder that is an image's record: not a batch file, not a review decision.</summary>
    private static bool IsRecord(string batch, string name) =>
        name.EndsWith(".json", StringComparison.Ordinal) && !LabelPaths.IsBatchFile(batch, name) && !LabelPaths.IsReviewRecord(batch, name);

    /// <summary>What the summary counts, added up record by record.</summary>
    private sealed class Totals
    {
        public int Labeled;
        public int Rejected;
        public int NeedsReview;
        public readonly Dictionary<string, int> Models = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> Top1 = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> RejectionCodes = new(StringComparer.Ordinal);
        public readonly int[] Histogram = new int[HistogramBins];
        public DateTimeOffset? FirstLabeledAt;
        public DateTimeOffset? LastLabeledAt;
    }

    /// <summary>The three streamed files; each group of records is serialised into a buffer and written out at once.</summary>
    private sealed record OutputFiles(Stream Jsonl, Stream Review, Stream Csv, double MinConfidence)
    {
        public async Task AddAsync(Totals totals, IReadOnlyList<LabelRecord> labels, IReadOnlyList<RejectedRecord> rejected, CancellationToken token)
        {
            using var jsonl = new MemoryStream();
            using var review = new MemoryStream();
            var csv = new StringBuilder();
            foreach (LabelRecord record in labels)
            {
                totals.Labeled++;
                Add(totals.Models, record.Model.Version);
                Line(jsonl, record);
                CsvRow(csv, record);
                if (totals.FirstLabeledAt is null || record.LabeledAt < totals.FirstLabeledAt)
                    totals.FirstLabeledAt = record.LabeledAt;
                if (totals.LastLabeledAt is null || record.LabeledAt > totals.LastLabeledAt)
                    totals.LastLabeledAt = record.LabeledAt;
                if (record.Top5.Count == 0)
                    continue;
                double top1 = record.Top5[0].Probability;
                Add(totals.Top1, record.Top5[0].Label);
                totals.Histogram[Math.Clamp((int)(top1 * HistogramBins), 0, HistogramBins - 1)]++;
                if (top1 < MinConfidence)
                {
                    totals.NeedsReview++;
                    Line(review, record);
                }
            }
            foreach (RejectedRecord record in rejected)
            {
                totals.Rejected++;
                Add(totals.RejectionCodes, record.Code);
            }

            await Jsonl.WriteAsync(jsonl.GetBuffer().AsMemory(0, (int)jsonl.Length), token).ConfigureAwait(false);
            await Review.WriteAsync(review.GetBuffer().AsMemory(0, (int)review.Length), token).ConfigureAwait(false);
            await Csv.WriteAsync(Encoding.UTF8.GetBytes(csv.ToString()), token).ConfigureAwait(false);
        }

        private static void Line(MemoryStream buffer, LabelRecord record)
        {
            JsonSerializer.Serialize(buffer, record, LabelJsonContext.Default.LabelRecord);
            buffer.WriteByte((byte)'\n');
        }

        private static void Add(Dictionary<string, int> counts, string key) =>
            counts[key] = counts.GetValueOrDefault(key) + 1;
    }

    private static readonly byte[] CsvHeader = Encoding.UTF8.GetBytes(CsvHeaderText());

    private static string CsvHeaderText()
    {
        var csv = new StringBuilder("path,etag,sha256,model,crop");
        for (int k = 1; k <= 5; k++)
            csv.Append(CultureInfo.InvariantCulture, $",label{k},probability{k}");
        return csv.Append('\n').ToString();
    }

    private static void CsvRow(StringBuilder csv, LabelRecord record)
    {
        csv.Append(Field(record.Image.Path)).Append(',').Append(Field(record.Image.ETag)).Append(',').Append(record.Image.Sha256)
           .Append(',').Append(Field(record.Model.Version)).Append(',').Append(record.CropMode);
        for (int k = 0; k < 5; k++)
        {
            if (k < record.Top5.Count)
                csv.Append(',').Append(Field(record.Top5[k].Label)).Append(',').Append(record.Top5[k].Probability.ToString("0.######", CultureInfo.InvariantCulture));
            else
                csv.Append(",,");
        }
        csv.Append('\n');
    }

    /// <summary>
    /// One CSV cell. A value a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return: a
    /// class named <c>=HYPERLINK(...)</c>, an upload named <c>@cmd.png</c>) gets a leading apostrophe, so it is shown as
    /// text; a value with a comma, quote or line break is quoted.
    /// </summary>
    internal static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }

    private static Dictionary<string, int> Ordered(Dictionary<string, int> counts) =>
        counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {Batch}: {Missing} of {Chunks} chunk(s) have no record file (written by an earlier worker); reporting from every record instead")]
    private static partial void LogNoChunkRecords(ILogger logger, string batch, int missing, int chunks);
}
