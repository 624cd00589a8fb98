using System.Diagnostics;
using AlexNet.Testing;

namespace AlexNet.Imaging.Tests;

public class BadInputTests
{
    // QUALITY.md: bombs are refused in under 100 ms each, before any large allocation.
    private const double MaxRejectMilliseconds = 100;
    private const long MaxBombAllocationBytes = 16L * 1024 * 1024;

    private static readonly IReadOnlyList<BadImage> FixedCorpus = BadImageCorpus.Fixed();

    private readonly ImageDecoder decoder = new();

    public static TheoryData<string> FixedNames => [.. FixedCorpus.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(FixedNames))]
    public void EveryHandMadeCaseHasItsExpectedOutcome(string name)
    {
        var item = FixedCorpus.Single(c => c.Name == name);
        decoder.Decode(item.Bytes); // warm-up: JIT and Skia's first use are not the input's cost

        var (result, milliseconds, allocated) = Measure(item.Bytes);

        AssertOutcome(item, result);
        if (!result.IsDecoded)
        {
            Assert.True(milliseconds < MaxRejectMilliseconds, $"{item}: rejected in {milliseconds:0.0} ms");
            Assert.True(allocated < MaxBombAllocationBytes, $"{item}: allocated {allocated} bytes");
        }
    }

    [Fact]
    public void BombsAreRefusedFromTheHeaderAlone()
    {
        var bombs = FixedCorpus.Where(c => c.Kind == BadImageKind.Bomb).ToList();
        Assert.True(bombs.Count >= 8);
        foreach (var bomb in bombs)
        {
            decoder.Decode(bomb.Bytes);
            var (result, milliseconds, allocated) = Measure(bomb.Bytes, withinMilliseconds: 10);

            Assert.Equal(bomb.Code, result.Rejection?.Code);
            Assert.True(milliseconds < 10, $"{bomb}: {milliseconds:0.00} ms");

            // The result and its reason string only: nothing that grows with the declared size.
            Assert.True(allocated < 16 * 1024, $"{bomb}: allocated {allocated} bytes");
        }
    }

    [Fact]
    public void ReasonsNameTheNumbers()
    {
        var reason = decoder.Decode(FixedCorpus.Single(c => c.Name == "bomb-20000x20000.png").Bytes).Rejection!.Reason;

        Assert.Equal("The PNG declares 20000x20000 (400.0 MP), over the 80 MP limit.", reason);
    }

    [Fact]
    public void TextNamedJpgIsRejectedAsUnsupportedWithAReadableReason()
    {
        var result = decoder.Decode(FixedCorpus.Single(c => c.Name == "text.jpg").Bytes);

        Assert.Equal(RejectionCode.UnsupportedFormat, result.Rejection?.Code);
        Assert.Equal("The content is text, not a JPEG, PNG, GIF, BMP or WebP image.", result.Rejection!.Reason);
    }

    [Fact]
    public void EveryTruncationIsRejectedAsTruncated()
    {
        var cuts = BadImageCorpus.Truncated(seed: 3, count: 400).ToList();
        Assert.True(cuts.Count > 300);
        foreach (var cut in cuts)
        {
            var (result, milliseconds, _) = Measure(cut.Bytes);
            AssertOutcome(cut, result);
            Assert.True(milliseconds < MaxRejectMilliseconds, $"{cut}: {milliseconds:0.0} ms");
        }
    }

    [Fact]
    public void MutantsDecodeOrAreRejectedWithAReason()
    {
        var outcomes = new Dictionary<string, int>();
        foreach (var mutant in BadImageCorpus.Mutated(seed: 5, count: 600))
        {
            var (result, milliseconds, _) = Measure(mutant.Bytes);
            AssertOutcome(mutant, result);
            Assert.True(milliseconds < MaxRejectMilliseconds, $"{mutant}: {milliseconds:0.0} ms");
            var key = result.IsDecoded ? "Decoded" : result.Rejection.Code.ToString();
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }

        // A corpus that only ever decodes, or only ever fails one way, would not be exercising anything.
        Assert.True(outcomes.Count >= 3, string.Join(", ", outcomes));
    }

    [Fact]
    public void BoundedFuzzRunLetsNoExceptionEscape()
    {
        var budget = Stopwatch.StartNew();
        var random = new Random(20240601);
        var seeds = SampleImages.SmallPhotos(96, 64, seed: 21).Select(s => s.Bytes)
            .Concat(BadImageCorpus.Fixed().Select(c => c.Bytes).Where(b => b.Length > 16))
            .ToList();
        var runs = 0;
        while (runs < 4000 && budget.Elapsed < TimeSpan.FromSeconds(12))
        {
            var bytes = (byte[])seeds[random.Next(seeds.Count)].Clone();
            switch (random.Next(4))
            {
                case 0:
                    bytes = bytes[..random.Next(1, bytes.Length)];
                    break;
                case 1:
                    for (var i = random.Next(1, 9); i > 0; i--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 2:
                    var at = random.Next(bytes.Length);
                    random.NextBytes(bytes.AsSpan(at, Math.Min(random.Next(1, 64), bytes.Length - at)));
                    break;
                default:
                    // Header-focused: the first 40 bytes carry sizes, lengths and counts.
                    bytes[random.Next(Math.Min(40, bytes.Length))] = (byte)random.Next(256);
                    break;
            }

            var (result, milliseconds, _) = Measure(bytes, withinMilliseconds: 1000);

            Assert.True(result.IsDecoded || !string.IsNullOrWhiteSpace(result.Rejection.Reason));
            Assert.True(milliseconds < 1000, $"input {runs} took {milliseconds:0} ms");
            runs++;
        }

        Assert.True(runs >= 500, $"only {runs} inputs in the time budget");
    }

    /// <summary>
    /// Decodes and reports the time and the bytes allocated on this thread. The machine is shared: when a run
    /// exceeds <paramref name="withinMilliseconds"/> it is repeated (up to three times) and the fastest counts,
    /// so a preempted thread does not read as a slow decoder.
    /// </summary>
    private (ImageDecodeResult Result, double Milliseconds, long Allocated) Measure(byte[] bytes, double withinMilliseconds = MaxRejectMilliseconds)
    {
        (ImageDecodeResult Result, double Milliseconds, long Allocated) best = default;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            var result = decoder.Decode(bytes);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            if (attempt == 0 || elapsed < best.Milliseconds)
            {
                best = (result, elapsed, allocated);
            }

            if (best.Milliseconds < withinMilliseconds)
            {
                break;
            }
        }

        return best;
    }

    private static void AssertOutcome(BadImage item, ImageDecodeResult result)
    {
        switch (item.Outcome)
        {
            case BadImageOutcome.Rejected:
                Assert.False(result.IsDecoded, $"{item} decoded");
                Assert.True(item.Code == result.Rejection.Code, $"{item}: got {result.Rejection}");
                break;
            case BadImageOutcome.Decoded:
                Assert.True(result.IsDecoded, $"{item}: {result}");
                break;
            default:
                Assert.True(result.IsDecoded || result.Rejection.Reason.Length > 10, $"{item}: {result}");
                break;
        }

        if (!result.IsDecoded)
        {
            Assert.EndsWith(".", result.Rejection.Reason, StringComparison.Ordinal);
        }
    }
}
