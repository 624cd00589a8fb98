namespace AlexNet.Model.Data;

/// <summary>
/// Seeds derived from a run's seed and a position (epoch, step, class...), stable across processes and
/// machines: <see cref="HashCode"/> is randomised per process, so it cannot serve here.
/// </summary>
public static class Seeds
{
    public static int Derive(long seed, params ReadOnlySpan<long> parts)
    {
        ulong state = unchecked((ulong)seed);
        foreach (long part in parts)
            state = SplitMix(state ^ unchecked((ulong)part * 0x9E3779B97F4A7C15UL));
        return (int)(SplitMix(state) >> 33);
    }

    private static ulong SplitMix(ulong x)
    {
        x = unchecked(x + 0x9E3779B97F4A7C15UL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return x ^ (x >> 31);
    }
}
