namespace AlexNet.Imaging;

/// <summary>
/// Bounds the bytes of pixel buffers that decodes on many threads hold at once: a counting gate weighted by
/// bytes. A request larger than the whole budget is let through when nothing else is held, so it waits its turn
/// instead of waiting forever. The decoder's calls are synchronous (the engine decodes on pool threads), so
/// waiting blocks the calling thread.
/// </summary>
internal sealed class DecodeMemoryGate(long budget)
{
    private readonly object sync = new();
    private long held;

    /// <summary>Bytes held now (for tests and diagnostics).</summary>
    public long Held
    {
        get
        {
            lock (sync)
            {
                return held;
            }
        }
    }

    /// <summary>Highest <see cref="Held"/> seen since the gate was made.</summary>
    public long Peak { get; private set; }

    /// <summary>Waits until <paramref name="bytes"/> fit in the budget, then holds them until the lease is disposed.</summary>
    public Lease Enter(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (sync)
        {
            while (held > 0 && held + bytes > budget)
            {
                Monitor.Wait(sync);
            }

            held += bytes;
            Peak = Math.Max(Peak, held);
        }

        return new Lease(this, bytes);
    }

    private void Exit(long bytes)
    {
        lock (sync)
        {
            held -= bytes;
            Monitor.PulseAll(sync);
        }
    }

    public readonly struct Lease(DecodeMemoryGate gate, long bytes) : IDisposable
    {
        public void Dispose() => gate?.Exit(bytes);
    }
}
