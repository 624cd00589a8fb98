using System.Threading.Channels;

namespace AlexNet.Model.Data;

/// <summary>
/// Runs a producer on the thread pool into a bounded channel, so loading, decoding and augmentation overlap the
/// consumer (the optimiser or the forward pass) and never run more than <c>capacity</c> items ahead of it.
/// Disposing stops the producer, whether or not the consumer read everything.
/// </summary>
public sealed class Prefetched<T> : IAsyncDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly Task producer;

    public Prefetched(int capacity, Func<ChannelWriter<T>, CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(produce);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(Math.Max(1, capacity))
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Reader = channel.Reader;
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = stop.Token;
        producer = Task.Run(async () =>
        {
            try
            {
                await produce(channel.Writer, token).ConfigureAwait(false);
                channel.Writer.TryComplete();
            }
            catch (Exception error)
            {
                // The consumer sees the producer's failure (or cancellation) when it reads.
                channel.Writer.TryComplete(error);
            }
        }, CancellationToken.None);
    }

    public ChannelReader<T> Reader { get; }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await producer.ConfigureAwait(false);
        stop.Dispose();
    }
}
