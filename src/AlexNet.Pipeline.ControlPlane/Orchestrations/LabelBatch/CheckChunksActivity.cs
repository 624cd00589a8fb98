using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>Which of the given chunks have a done marker, and the sum of what those markers report.</summary>
[DurableTask(OrchestrationNames.CheckChunks)]
public sealed class CheckChunksActivity(IBlobStore store) : TaskActivity<CheckChunksInput, ChunkCheck>
{
    private const int ReadParallelism = 16;

    public override async Task<ChunkCheck> RunAsync(TaskActivityContext context, CheckChunksInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var markers = new ChunkDone?[input.Chunks.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, markers.Length), new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism }, async (i, token) =>
        {
            string name = PipelineNames.ChunkDoneBlob(input.Batch, ChunkPlan.ChunkId(input.Chunks[i]));
            BlobDownload? download = await store.DownloadAsync(PipelineNames.RunsContainer, name, token).ConfigureAwait(false);
            if (download is not null)
                markers[i] = ContractSerializer.FromBinary<ChunkDone>(download.Content);
        }).ConfigureAwait(false);

        var done = new List<int>();
        ChunkTotals totals = ChunkTotals.None;
        for (int i = 0; i < markers.Length; i++)
        {
            if (markers[i] is { } marker)
            {
                done.Add(input.Chunks[i]);
                totals = totals.Add(marker);
            }
        }
        return new ChunkCheck(done, totals);
    }
}
