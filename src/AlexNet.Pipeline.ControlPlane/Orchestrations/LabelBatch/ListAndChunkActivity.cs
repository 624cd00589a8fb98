using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Lists the batch's images in name order, cuts them into chunks and writes one request blob per chunk with its
/// paths, their ETags and whether each had a label or rejected record (one listing each of <c>labels/&lt;batch&gt;/</c>
/// and <c>rejected/&lt;batch&gt;/</c>). Returns only the <see cref="ChunkPlan"/>. Safe to run again: a chunk of the same
/// images keeps its request and done marker (even if records appeared since: that part is a hint); a chunk whose paths
/// or versions changed gets the new request and loses its stale done marker.
/// </summary>
/// <remarks>
/// Its memory does not follow the batch: each chunk's request is written as its names arrive from the listing (at most
/// <c>WriteParallelism</c> chunks in flight), and the records are kept as 64-bit hashes of their names, 8 bytes
/// each instead of the names themselves (ten million images were 2-3 GB when every entry was held). A hash that two
/// names share only makes the hint say "has a record" for an image without one, and the worker then looks for it.
/// </remarks>
[DurableTask(OrchestrationNames.ListAndChunk)]
public sealed class ListAndChunkActivity(IBlobStore store, ILogger<ListAndChunkActivity> logger) : TaskActivity<ListAndChunkInput, ChunkPlan>
{
    private const int WriteParallelism = 16;

    public override async Task<ChunkPlan> RunAsync(TaskActivityContext context, ListAndChunkInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        LabelPaths.ValidateBatch(input.Batch);
        ArgumentOutOfRangeException.ThrowIfLessThan(input.ChunkSize, 1);

        // One listing of the batch's records (a page per 5,000) spares the worker a look-up per new image. A rejected
        // record counts too: the worker then reads it and does not download a rejected image again.
        var records = new HashSet<ulong>();
        foreach (string container in (string[])[LabelPaths.LabelsContainer, LabelPaths.RejectedContainer])
        {
            await foreach (BlobEntry entry in store.ListAsync(container, input.Batch + "/").ConfigureAwait(false))
                records.Add(NameHash(entry.Name));
        }

        // Chunks are cut as the listing goes and written WriteParallelism at a time; the listing waits for a free writer.
        var cut = new ChunkCount();
        await Parallel.ForEachAsync(
            CutAsync(input, records, cut),
            new ParallelOptions { MaxDegreeOfParallelism = WriteParallelism },
            async (chunk, token) => await WriteChunkAsync(input, chunk.Index, chunk.Items, token).ConfigureAwait(false)).ConfigureAwait(false);

        OrchestrationLog.Chunked(logger, input.Batch, cut.Images, cut.Chunks, input.Container, input.Prefix);
        return new ChunkPlan(cut.Images, input.ChunkSize, cut.Chunks);
    }

    private sealed class ChunkCount
    {
        public int Images { get; set; }

        public int Chunks { get; set; }
    }

    /// <summary>The batch's images in listing (name) order, <see cref="ListAndChunkInput.ChunkSize"/> at a time, with the record hint.</summary>
    private async IAsyncEnumerable<(int Index, List<LabelItem> Items)> CutAsync(ListAndChunkInput input, HashSet<ulong> records, ChunkCount cut)
    {
        var items = new List<LabelItem>(input.ChunkSize);
        await foreach (BlobEntry entry in store.ListAsync(input.Container, input.Prefix).ConfigureAwait(false))
        {
            cut.Images++;
            bool recorded = records.Contains(NameHash(LabelPaths.Record(input.Batch, LabelPaths.RelativeToBatch(input.Batch, entry.Name))));
            items.Add(new LabelItem(entry.Name, entry.ETag, recorded));
            if (items.Count == input.ChunkSize)
            {
                yield return (cut.Chunks++, items);
                items = new List<LabelItem>(input.ChunkSize);
            }
        }
        if (items.Count > 0)
            yield return (cut.Chunks++, items);
    }

    private async Task WriteChunkAsync(ListAndChunkInput input, int index, List<LabelItem> items, CancellationToken cancellationToken)
    {
        string chunk = ChunkPlan.ChunkId(index);
        var request = new ChunkRequestFile(input.Batch, chunk, input.Container, items);
        string name = PipelineNames.ChunkRequestBlob(input.Batch, chunk);
        BlobDownload? existing = await store.DownloadAsync(PipelineNames.RunsContainer, name, cancellationToken).ConfigureAwait(false);
        if (existing is not null && Read(existing) is { } previous && previous.SameImages(request))
            return;
        await store.UploadAsync(PipelineNames.RunsContainer, name, BinaryData.FromBytes(request.ToUtf8Json()), "application/json", cancellationToken: cancellationToken).ConfigureAwait(false);
        await store.DeleteAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(input.Batch, chunk), cancellationToken).ConfigureAwait(false);
    }

    private static ulong NameHash(string name) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(name.AsSpan()));

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
