using System.Globalization;
using System.Text;
using System.Text.Json;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Labeling;

/// <summary>
/// Gathers every label and rejected record of a batch from storage and writes the batch files downstream apps
/// read: <c>labels.jsonl</c>, <c>labels.csv</c>, <c>review.jsonl</c> and <c>summary.json</c>. Built from the
/// records themselves, so it is right however many runs, workers or redeliveries produced them.
/// </summary>
public sealed class BatchReport(IBlobStore store, TimeProvider time)
{
    public const int HistogramBins = 10;

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

        var review = labels.Where(l => l.Top5.Count > 0 && l.Top5[0].Probability < minConfidence).ToList();
        var histogram = new int[HistogramBins];
        foreach (LabelRecord record in labels.Where(l => l.Top5.Count > 0))
            histogram[Math.Clamp((int)(record.Top5[0].Probability * HistogramBins), 0, HistogramBins - 1)]++;

        var summary = new BatchSummary(
            batch,
            labels.Count + rejected.Count,
            labels.Count,
            rejected.Count,
            review.Count,
            Count(labels.Select(l => l.Model.Version)),
            Count(labels.Where(l => l.Top5.Count > 0).Select(l => l.Top5[0].Label)),
            histogram,
            Count(rejected.Select(r => r.Code)),
            minConfidence,
            labels.Count > 0 ? labels.Min(l => l.LabeledAt) : null,
            labels.Count > 0 ? labels.Max(l => l.LabeledAt) : null,
            time.GetUtcNow(),
            lastRun);

        await PutAsync(batch, LabelPaths.LabelsJsonl, Jsonl(labels), "application/x-ndjson", cancellationToken).ConfigureAwait(false);
        await PutAsync(batch, LabelPaths.Review, Jsonl(review), "application/x-ndjson", cancellationToken).ConfigureAwait(false);
        await PutAsync(batch, LabelPaths.LabelsCsv, Csv(labels), "text/csv", cancellationToken).ConfigureAwait(false);
        await PutAsync(batch, LabelPaths.Summary, JsonSerializer.SerializeToUtf8Bytes(summary, LabelJsonContext.Default.BatchSummary), "application/json", cancellationToken).ConfigureAwait(false);
        return summary;
    }

    private async Task<List<T>> ReadAllAsync<T>(string container, string batch, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken token)
    {
        var names = new List<string>();
        await foreach (BlobEntry entry in store.ListAsync(container, batch + "/", token).ConfigureAwait(false))
        {
            if (entry.Name.EndsWith(".json", StringComparison.Ordinal) && !LabelPaths.IsBatchFile(batch, entry.Name) && !LabelPaths.IsReviewRecord(batch, entry.Name))
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

    private Task PutAsync(string batch, string file, byte[] content, string contentType, CancellationToken token) =>
        store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.BatchFile(batch, file), BinaryData.FromBytes(content), contentType, cancellationToken: token);

    private static byte[] Jsonl(IEnumerable<LabelRecord> records)
    {
        using var buffer = new MemoryStream();
        foreach (LabelRecord record in records)
        {
            JsonSerializer.Serialize(buffer, record, LabelJsonContext.Default.LabelRecord);
            buffer.WriteByte((byte)'\n');
        }
        return buffer.ToArray();
    }

    private static byte[] Csv(IEnumerable<LabelRecord> records)
    {
        var csv = new StringBuilder();
        csv.Append("path,etag,sha256,model,crop");
        for (int k = 1; k <= 5; k++)
            csv.Append(CultureInfo.InvariantCulture, $",label{k},probability{k}");
        csv.Append('\n');
        foreach (LabelRecord record in records)
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
        return Encoding.UTF8.GetBytes(csv.ToString());
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

    private static Dictionary<string, int> Count(IEnumerable<string> values) =>
        values.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}
