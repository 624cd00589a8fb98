namespace AlexNet.Pipeline.Labeling;

/// <summary>
/// Bytes of downloaded images a run may hold at once, from the start of a download until the image is decoded (its
/// encoded bytes dropped). Taken first come, first served; an image larger than the whole budget waits until nothing
/// else is held and then goes alone, so every image gets its turn.
/// </summary>
public sealed class ByteBudget(long capacity)
{
    private readonly Lock gate = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> waiting = new();
    private long held;

    public long Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "the budget must be positive");

    /// <summary>The most bytes held at once so far.</summary>
    public long Peak { get; private set; }

    /// <summary>Waits until <paramref name="bytes"/> fit (all of the budget at most) and holds them until the reservation is disposed.</summary>
    public async ValueTask<IDisposable> ReserveAsync(long bytes, CancellationToken cancellationToken = default)
    {
        long amount = Math.Clamp(bytes, 0, Capacity);
        LinkedListNode<(long Bytes, TaskCompletionSource Ready)> node;
        lock (gate)
        {
            if (waiting.Count == 0 && held + amount <= Capacity)
            {
                Hold(amount);
                return new Reservation(this, amount);
            }
            node = waiting.AddLast((amount, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        using (cancellationToken.Register(() =>
        {
            lock (gate)
            {
                // Still waiting (not granted meanwhile): leave the line.
                if (node.List is not null)
                {
                    waiting.Remove(node);
                    node.Value.Ready.TrySetCanceled(cancellationToken);
                }
            }
        }))
        {
            await node.Value.Ready.Task.ConfigureAwait(false);
        }
        return new Reservation(this, amount);
    }

    private void Hold(long amount)
    {
        held += amount;
        Peak = Math.Max(Peak, held);
    }

    private void Release(long amount)
    {
        lock (gate)
        {
            held -= amount;
            while (waiting.First is { } first && held + first.Value.Bytes <= Capacity)
            {
                waiting.RemoveFirst();
                Hold(first.Value.Bytes);
                first.Value.Ready.TrySetResult();
            }
        }
    }

    private sealed class Reservation(ByteBudget budget, long amount) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
                budget.Release(amount);
        }
    }
}
