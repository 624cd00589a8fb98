using System.Text.Json;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>
/// What storage says about a batch, image by image. <see cref="Lost"/>: images with neither a label nor a rejected
/// record. <see cref="Duplicates"/>: records beyond one per image (a label and a rejection for the same image, or a
/// record written more than once, when the writes were counted).
/// </summary>
internal sealed record AuditResult(
    int Images,
    int Labeled,
    int Rejected,
    int Lost,
    int Duplicates,
    IReadOnlyDictionary<string, LabelRecord> Labels,
    IReadOnlyDictionary<string, RejectedRecord> Rejections,
    IReadOnlyList<string> Problems)
{
    public string Line => $"{Images} in, {Labeled} labeled, {Rejected} rejected, {Lost} lost, {Duplicates} duplicates";

    /// <summary>Fails with the first problems found, naming them.</summary>
    public void AssertClean()
    {
        Assert.True(Problems.Count == 0, $"{Line}; {Problems.Count} problem(s):\n" + string.Join('\n', Problems.Take(20)));
        Assert.Equal((0, 0), (Lost, Duplicates));
        Assert.Equal(Images, Labeled + Rejected);
    }
}

internal static class RecordAudit
{
    /// <param name="images">Blob names of every image sent into the batch.</param>
    /// <param name="writes">When given, each record must have been written exactly once.</param>
    public static async Task<AuditResult> RunAsync(IBlobStore store, string batch, IReadOnlyCollection<string> images, CountingBlobStore? writes = null)
    {
        var problems = new List<string>();
        var expected = images.ToHashSet(StringComparer.Ordinal);
        var labels = new Dictionary<string, LabelRecord>(StringComparer.Ordinal);
        var rejections = new Dictionary<string, RejectedRecord>(StringComparer.Ordinal);
        int duplicates = 0;

        await foreach (var (name, record) in ReadAsync(store, LabelPaths.LabelsContainer, batch, LabelJsonContext.Default.LabelRecord))
        {
            if (!labels.TryAdd(record.Image.Path, record))
            {
                duplicates++;
                problems.Add($"second label record {name} for {record.Image.Path}");
            }
            duplicates += Rewrites(writes, LabelPaths.LabelsContainer, name, problems);
        }
        await foreach (var (name, record) in ReadAsync(store, LabelPaths.RejectedContainer, batch, LabelJsonContext.Default.RejectedRecord))
        {
            if (!rejections.TryAdd(record.Image.Path, record))
            {
                duplicates++;
                problems.Add($"second rejected record {name} for {record.Image.Path}");
            }
            if (string.IsNullOrWhiteSpace(record.Reason) || string.IsNullOrWhiteSpace(record.Code))
                problems.Add($"rejected record {name} has no reason or code");
            duplicates += Rewrites(writes, LabelPaths.RejectedContainer, name, problems);
        }

        foreach (string both in labels.Keys.Intersect(rejections.Keys, StringComparer.Ordinal))
        {
            duplicates++;
            problems.Add($"{both} has a label and a rejected record");
        }
        foreach (string stray in labels.Keys.Concat(rejections.Keys).Where(p => !expected.Contains(p)))
            problems.Add($"record for {stray}, which was never sent");
        int lost = expected.Count(p => !labels.ContainsKey(p) && !rejections.ContainsKey(p));
        if (lost > 0)
            problems.Add($"{lost} image(s) without a record, e.g. {string.Join(", ", expected.Where(p => !labels.ContainsKey(p) && !rejections.ContainsKey(p)).Take(5))}");

        return new AuditResult(
            expected.Count,
            labels.Keys.Count(expected.Contains),
            rejections.Keys.Count(p => expected.Contains(p) && !labels.ContainsKey(p)),
            lost,
            duplicates,
            labels,
            rejections,
            problems);
    }

    private static int Rewrites(CountingBlobStore? writes, string container, string name, List<string> problems)
    {
        if (writes is null)
            return 0;
        int count = writes.WritesOf(container, name);
        if (count == 1)
            return 0;
        problems.Add($"{container}/{name} written {count} times");
        return Math.Max(0, count - 1);
    }

    private static async IAsyncEnumerable<(string Name, T Record)> ReadAsync<T>(
        IBlobStore store, string container, string batch, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var names = new List<string>();
        await foreach (BlobEntry entry in store.ListAsync(container, batch + "/"))
        {
            if (!LabelPaths.IsBatchFile(batch, entry.Name))
                names.Add(entry.Name);
        }
        var records = new (string, T)[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
        {
            BlobDownload download = await store.DownloadAsync(container, names[i], token) ?? throw new InvalidOperationException($"{container}/{names[i]} vanished");
            records[i] = (names[i], JsonSerializer.Deserialize(download.Content.ToMemory().Span, type)!);
        });
        foreach (var record in records)
            yield return record;
    }
}
