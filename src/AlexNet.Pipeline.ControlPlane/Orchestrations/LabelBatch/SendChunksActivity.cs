using System.Diagnostics;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Microsoft.DurableTask;
using AlexNet.Pipeline.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// Sends one <see cref="LabelRequest"/> per chunk on the label queue, with the items read from the chunk's request
/// blob. The first send of a chunk has MessageId <c>MessageId(batch, chunk)</c>, so a repeated run of this activity
/// is dropped by duplicate detection; a resend adds its attempt number, so it is not. A chunk whose paths would make
/// the message too large for the queue is sent by reference (<see cref="LabelRequest.PathsInChunkRequest"/>).
/// </summary>
[DurableTask(OrchestrationNames.SendChunks)]
public sealed class SendChunksActivity(
    IBlobStore store, IWorkQueueFactory queues, IOptions<MessagingOptions> messaging, TimeProvider time, ILogger<SendChunksActivity> logger)
    : TaskActivity<SendChunksInput, int>
{
    private const int ReadParallelism = 16;

    public override async Task<int> RunAsync(TaskActivityContext context, SendChunksInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var requests = new ChunkRequestFile[input.Chunks.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, requests.Length), new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism }, async (i, token) =>
        {
            string name = PipelineNames.ChunkRequestBlob(input.Batch, ChunkPlan.ChunkId(input.Chunks[i]));
            BlobDownload download = await store.DownloadAsync(PipelineNames.RunsContainer, name, token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"chunk request runs/{name} is missing; was the batch listed by ListAndChunk?");
            requests[i] = ChunkRequestFile.Parse(download.Content)
                ?? throw new InvalidDataException($"chunk request runs/{name} is empty");
        }).ConfigureAwait(false);

        DateTimeOffset now = time.GetUtcNow();
        string? traceParent = Activity.Current?.Id;
        var messages = requests.Select(request =>
        {
            var message = new LabelRequest(request.Batch, request.Chunk, request.Container, request.Items, now, input.CropMode, traceParent);
            BinaryData body = ContractSerializer.ToBinary(message);
            if (body.ToMemory().Length > LabelRequest.MaxInlineBodyBytes)
                body = ContractSerializer.ToBinary(message with { Items = [], PathsInChunkRequest = true });
            string id = input.Attempt == 0
                ? PipelineNames.MessageId(request.Batch, request.Chunk)
                : PipelineNames.MessageId(request.Batch, request.Chunk, $"resend-{input.Attempt}");
            return new OutgoingMessage(id, body, LabelRequest.Subject, request.Batch);
        }).ToArray();

        await queues.GetQueue(messaging.Value.LabelQueue).SendAsync(messages).ConfigureAwait(false);
        OrchestrationLog.ChunksSent(logger, input.Batch, messages.Length, input.Attempt);
        return messages.Length;
    }
}
