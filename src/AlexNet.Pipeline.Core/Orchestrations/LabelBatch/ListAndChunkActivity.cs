using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Lists the batch's images in name order, cuts them into chunks and writes one request blob per chunk with its
/// paths. Returns only the <see cref="ChunkPlan"/>. Safe to run again: an unchanged chunk keeps its request and done
/// marker; a chunk whose paths changed (the listing moved) gets the new request and loses its stale done marker.
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

        BlobEntry[][] chunks = entries.Chunk(input.ChunkSize).ToArray();
        await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Length), new ParallelOptions { MaxDegreeOfParallelism = WriteParallelism }, async (index, token) =>
        {
            string chunk = ChunkPlan.ChunkId(index);
            var request = new ChunkRequestFile(input.Batch, chunk, input.Container, [.. chunks[index].Select(e => e.Name)], [.. chunks[index].Select(e => e.ETag)]);
            byte[] content = JsonSerializer.SerializeToUtf8Bytes(request, LabelBatchJsonContext.Default.ChunkRequestFile);
            string name = PipelineNames.ChunkRequestBlob(input.Batch, chunk);
            BlobDownload? existing = await store.DownloadAsync(PipelineNames.RunsContainer, name, token).ConfigureAwait(false);
            if (existing is not null && existing.Content.ToMemory().Span.SequenceEqual(content))
                return;
            await store.UploadAsync(PipelineNames.RunsContainer, name, BinaryData.FromBytes(content), "application/json", cancellationToken: token).ConfigureAwait(false);
            await store.DeleteAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(input.Batch, chunk), token).ConfigureAwait(false);
        }).ConfigureAwait(false);

        OrchestrationLog.Chunked(logger, input.Batch, entries.Count, chunks.Length, input.Container, input.Prefix);
        return new ChunkPlan(entries.Count, input.ChunkSize, chunks.Length);
    }
}
