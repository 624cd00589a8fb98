using System.Collections.Concurrent;
using System.Text.Json;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>
/// Stands in for the GPU worker: receives label requests from the real queue, writes one label record per path and
/// the chunk's done marker, as the worker's contract says, without running a network. <see cref="Drop"/> decides
/// which deliveries to lose (completed without any write), to play a worker that died mid-chunk.
/// </summary>
internal sealed class FakeLabelWorker : IAsyncDisposable
{
    private readonly IBlobStore store;
    private readonly IWorkQueue queue;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public FakeLabelWorker(IBlobStore store, IWorkQueueFactory queues, TimeSpan? delayPerChunk = null)
    {
        this.store = store;
        queue = queues.GetQueue(PipelineNames.LabelQueue);
        DelayPerChunk = delayPerChunk ?? TimeSpan.Zero;
        loop = Task.Run(RunAsync);
    }

    /// <summary>Given a request and how many times its chunk was delivered before, true to lose this delivery.</summary>
    public Func<LabelRequest, int, bool> Drop { get; set; } = (_, _) => false;

    public TimeSpan DelayPerChunk { get; }

    /// <summary>Every delivery by chunk id, with the message id it came under.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<string>> Deliveries { get; } = new(StringComparer.Ordinal);

    private async Task RunAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            IReadOnlyList<ReceivedMessage> messages;
            try
            {
                messages = await queue.ReceiveAsync(4, TimeSpan.FromMilliseconds(200), stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (ReceivedMessage message in messages)
            {
                var request = ContractSerializer.FromBinary<LabelRequest>(message.Body);
                var deliveries = Deliveries.GetOrAdd(request.Chunk, _ => new ConcurrentQueue<string>());
                int before = deliveries.Count;
                deliveries.Enqueue(message.MessageId);
                if (!Drop(request, before))
                    await LabelAsync(request);
                await queue.CompleteAsync(message);
            }
        }
    }

    private async Task LabelAsync(LabelRequest request)
    {
        if (DelayPerChunk > TimeSpan.Zero)
            await Task.Delay(DelayPerChunk);
        IReadOnlyList<string> paths = [.. request.Items!.Select(i => i.Path)];
        foreach (string path in paths)
        {
            var record = new LabelRecord(
                request.Batch,
                new ImageIdentity(request.Container, path, "\"etag\"", new string('0', 64), 3),
                new ModelIdentity("fake-model", new string('1', 64)),
                "center",
                [new LabelScore("cat", 0, 0.9f), new LabelScore("dog", 1, 0.1f)],
                DateTimeOffset.UtcNow);
            await store.UploadAsync(LabelPaths.LabelsContainer, LabelPaths.Record(request.Batch, path),
                BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(record, LabelJsonContext.Default.LabelRecord)), "application/json");
        }
        var done = new ChunkDone(request.Batch, request.Chunk, paths.Count, paths.Count, 0, 0, 0, 0.01, "fake-model", "fake-worker", DateTimeOffset.UtcNow);
        await store.UploadAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(request.Batch, request.Chunk), ContractSerializer.ToBinary(done), "application/json");
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}
