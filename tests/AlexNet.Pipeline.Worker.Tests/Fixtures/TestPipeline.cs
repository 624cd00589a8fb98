using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;

namespace AlexNet.Pipeline.Worker.Tests.Fixtures;

/// <summary>Test data in the pipeline's own shapes: uploads, label requests as the orchestration sends them, and what the worker wrote.</summary>
public static class TestPipeline
{
    public static string NewBatch(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..(purpose.Length + 13)];

    /// <summary>Photo-like JPEGs at <c>incoming/&lt;batch&gt;/&lt;prefix&gt;-NNN.jpg</c>.</summary>
    public static async Task<string[]> UploadPhotosAsync(IBlobStore store, string batch, int count, string prefix = "photo", int seed = 0)
    {
        string[] paths = Enumerable.Range(0, count).Select(i => $"{batch}/{prefix}-{i:D3}.jpg").ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), async (i, ct) =>
            await store.UploadAsync(PipelineNames.IncomingContainer, paths[i], BinaryData.FromBytes(SampleImages.PhotoJpeg(96, 80, seed + i)), "image/jpeg", cancellationToken: ct));
        return paths;
    }

    /// <summary>Each upload's current ETag, in order: what a batch listing would put in a chunk request.</summary>
    public static Task<string[]> ETagsAsync(IBlobStore store, IEnumerable<string> paths) =>
        Task.WhenAll(paths.Select(async p => (await store.GetEntryAsync(PipelineNames.IncomingContainer, p))!.ETag));

    /// <summary>A label request for <paramref name="paths"/>, with what a batch listing knew of each (ETag, record) when given.</summary>
    public static LabelRequest Chunk(
        string batch, string chunk, IReadOnlyList<string> paths, string? traceParent = null, IReadOnlyList<string>? etags = null, IReadOnlyList<bool>? recorded = null) =>
        new(batch, chunk, PipelineNames.IncomingContainer, LabelItem.FromParallelLists(paths, etags, recorded), DateTimeOffset.UtcNow, TraceParent: traceParent);

    public static OutgoingMessage Message(LabelRequest request) =>
        new(PipelineNames.MessageId(request.Batch, request.Chunk), ContractSerializer.ToBinary(request), LabelRequest.Subject);

    public static Task SendAsync(IWorkQueue queue, params LabelRequest[] requests) => queue.SendAsync(requests.Select(Message).ToArray());

    /// <summary>The record blob of an upload: <c>&lt;batch&gt;/&lt;path within the batch&gt;.json</c>.</summary>
    public static string RecordName(string batch, string path) => LabelPaths.Record(batch, LabelPaths.RelativeToBatch(batch, path));

    public static async Task<List<LabelRecord>> LabelRecordsAsync(IBlobStore store, string batch) =>
        await ReadAllAsync(store, LabelPaths.LabelsContainer, batch + "/", LabelJsonContext.Default.LabelRecord);

    public static async Task<List<RejectedRecord>> RejectedRecordsAsync(IBlobStore store, string batch) =>
        await ReadAllAsync(store, LabelPaths.RejectedContainer, batch + "/", LabelJsonContext.Default.RejectedRecord);

    public static async Task<List<ChunkDone>> MarkersAsync(IBlobStore store, string batch) =>
        await ReadAllAsync(store, PipelineNames.RunsContainer, PipelineNames.ChunkPrefix(batch), ContractsJsonContext.Default.ChunkDone, ".done.json");

    /// <summary>The record files the worker wrote for a batch's chunks (<c>runs/&lt;batch&gt;/chunks/&lt;chunk&gt;.records.json</c>).</summary>
    public static async Task<List<ChunkRecords>> ChunkRecordsAsync(IBlobStore store, string batch) =>
        await ReadAllAsync(store, PipelineNames.RunsContainer, PipelineNames.ChunkPrefix(batch), LabelJsonContext.Default.ChunkRecords, ".records.json");

    /// <summary>Polls <paramref name="condition"/> until it holds, failing with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}");
            await Task.Delay(100);
        }
    }

    private static async Task<List<T>> ReadAllAsync<T>(IBlobStore store, string container, string prefix, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string suffix = "")
    {
        var items = new List<T>();
        await foreach (BlobEntry entry in store.ListAsync(container, prefix))
        {
            if (!entry.Name.EndsWith(suffix, StringComparison.Ordinal))
                continue;
            BlobDownload? download = await store.DownloadAsync(container, entry.Name);
            if (download is not null)
                items.Add(JsonSerializer.Deserialize(download.Content.ToMemory().Span, type)!);
        }
        return items;
    }
}
