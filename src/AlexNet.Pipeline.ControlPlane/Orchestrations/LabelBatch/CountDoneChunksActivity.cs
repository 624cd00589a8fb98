using System.Runtime.CompilerServices;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Progress of a whole batch from one listing of its chunk folder: done markers counted, their images taken from
/// the plan, so no marker is read.
/// </summary>
[DurableTask(OrchestrationNames.CountDoneChunks)]
public sealed class CountDoneChunksActivity(IBlobStore store) : TaskActivity<CountDoneChunksInput, DoneChunkCount>
{
    private const string DoneSuffix = ".done.json";

    public override async Task<DoneChunkCount> RunAsync(TaskActivityContext context, CountDoneChunksInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string prefix = PipelineNames.ChunkPrefix(input.Batch);
        int chunks = 0, images = 0;
        await foreach (int index in DoneIndexesAsync(prefix).ConfigureAwait(false))
        {
            if (index < input.Plan.Chunks)
            {
                chunks++;
                images += input.Plan.ChunkImages(index);
            }
        }
        return new DoneChunkCount(chunks, images);
    }

    private async IAsyncEnumerable<int> DoneIndexesAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (BlobEntry entry in store.ListAsync(PipelineNames.RunsContainer, prefix, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Name.EndsWith(DoneSuffix, StringComparison.Ordinal))
            {
                int index = ChunkPlan.ChunkIndex(entry.Name[prefix.Length..^DoneSuffix.Length]);
                if (index >= 0)
                    yield return index;
            }
        }
    }
}
