using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Lists the batch's images in name order, cuts them into chunks and writes one request blob per chunk with its
/// paths, their ETags and whether each had a label or rejected record (one listing each of <c>labels/&lt;batch&gt;/</c> and <c>rejected/&lt;batch&gt;/</c>). Returns only
/// the <see cref="ChunkPlan"/>. Safe to run again: a chunk of the same images keeps its request and done marker (even
/// if records appeared since: that part is a hint); a chunk whose paths or versions changed gets the new request and
/// loses its stale done marker.
/// </summary>
[DurableTask(OrchestrationNames.ListAndChunk)]
public sealed class ListAndChunkActivity(IBlobStore store, ILogger<ListAndChunkActivity> logger) : TaskActivity<ListAndChunkInput, ChunkPlan>
{
    private const int WriteParallelism = 16;

    public override async Task<ChunkPlan> RunAsync(TaskActivityContext context, ListAndChunkInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        LabelPaths.ValidateBatch(input.Batch);
        ArgumentOutOfRangeException.ThrowIfLessThan(input.ChunkSize, 1);

        var entries = new List<BlobEntry>();
        await foreach (BlobEntry entry in store.ListAsync(input.Container, input.Prefix).ConfigureAwait(false))
            entries.Add(entry);

        // One listing of the batch's records (a page per 5,000) spares the worker a look-up per new image. A rejected
        // record counts too: the worker then reads it and does not download a rejected image again.
        var records = new HashSet<string>(StringComparer.Ordinal);
        foreach (string container in (string[])[LabelPaths.LabelsContainer, LabelPaths.RejectedContainer])
        {
            await foreach (BlobEntry entry in store.ListAsync(container, input.Batch + "/").ConfigureAwait(false))
                records.Add(entry.Name);
        }

        BlobEntry[][] chunks = entries.Chunk(input.ChunkSize).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Length), new ParallelOptions { MaxDegreeOfParallelism = WriteParallelism }, async (index, token) =>
        {
            string chunk = ChunkPlan.ChunkId(index);
            var request = new ChunkRequestFile(input.Batch, chunk, input.Container, [.. chunks[index].Select(e =>
                new LabelItem(e.Name, e.ETag, records.Contains(LabelPaths.Record(input.Batch, LabelPaths.RelativeToBatch(input.Batch, e.Name)))))]);
            byte[] content = request.ToUtf8Json();
            string name = PipelineNames.ChunkRequestBlob(input.Batch, chunk);
            BlobDownload? existing = await store.DownloadAsync(PipelineNames.RunsContainer, name, token).ConfigureAwait(false);
            if (existing is not null && Read(existing) is { } previous && previous.SameImages(request))
                return;
            await store.UploadAsync(PipelineNames.RunsContainer, name, BinaryData.FromBytes(content), "application/json", cancellationToken: token).ConfigureAwait(false);
            await store.DeleteAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(input.Batch, chunk), token).ConfigureAwait(false);
        }).ConfigureAwait(false);

        OrchestrationLog.Chunked(logger, input.Batch, entries.Count, chunks.Length, input.Container, input.Prefix);
        return new ChunkPlan(entries.Count, input.ChunkSize, chunks.Length);
    }

    private static ChunkRequestFile? Read(BlobDownload download)
    {
        try
        {
            return ChunkRequestFile.Parse(download.Content);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
