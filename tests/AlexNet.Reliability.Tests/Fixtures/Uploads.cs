using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using AlexNet.Testing;

namespace AlexNet.Reliability.Tests.Fixtures;

/// <summary>An input that must end up with a rejected record, and the rejection code the decoder gives it.</summary>
internal sealed record CorruptInput(string Kind, byte[] Bytes);

/// <summary>Test data in the pipeline's own shapes: uploads under <c>incoming/&lt;batch&gt;/</c> and label requests as the orchestration sends them.</summary>
internal static class Uploads
{
    public static string NewBatch(string purpose) => $"{purpose}-{Guid.NewGuid():N}"[..(purpose.Length + 13)];

    public static string Name(string batch, int index) => $"{batch}/img-{index:D5}.jpg";

    /// <summary>A photo-like 96x80 JPEG, different for every index and seed.</summary>
    public static byte[] Photo(int index, int seed = 0) => SampleImages.PhotoJpeg(96, 80, seed * 100_003 + index);

    /// <summary>Uploads <paramref name="count"/> images; those in <paramref name="corrupt"/> get the corrupt bytes instead.</summary>
    public static async Task<string[]> UploadAsync(IBlobStore store, string batch, int count, IReadOnlyDictionary<int, CorruptInput>? corrupt = null, int seed = 0)
    {
        string[] names = [.. Enumerable.Range(0, count).Select(i => Name(batch, i))];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
        {
            byte[] bytes = corrupt is not null && corrupt.TryGetValue(i, out CorruptInput? bad) ? bad.Bytes : Photo(i, seed);
            await store.UploadAsync(PipelineNames.IncomingContainer, names[i], BinaryData.FromBytes(bytes), "image/jpeg", cancellationToken: token);
        });
        return names;
    }

    /// <summary>
    /// One corrupt input per hundred images (at least one), at seeded positions, cycling through kinds that fail at
    /// different stages: the header probe, the full decode, the frame and pixel limits.
    /// </summary>
    /// <param name="firstKind">Where in the cycle of kinds to start (the text file is refused by the upload check already).</param>
    public static Dictionary<int, CorruptInput> OnePercentCorrupt(int count, int seed, int firstKind = 0)
    {
        var fixedCases = BadImageCorpus.Fixed().ToDictionary(c => c.Name, c => c.Bytes, StringComparer.Ordinal);
        byte[] photo = Photo(0, seed: 999);
        CorruptInput[] kinds =
        [
            new("truncated JPEG", photo[..(photo.Length / 3)]),
            new("text named .jpg", fixedCases["text.jpg"]),
            new("PNG declaring 20000x20000", fixedCases["bomb-20000x20000.png"]),
            new("JPEG with only SOI and EOI", fixedCases["eoi-only.jpg"]),
            new("GIF of 10,000 frames", fixedCases["bomb-10000-frames.gif"]),
            new("random bytes", fixedCases["random.jpg"]),
            new("empty file", fixedCases["empty.jpg"]),
        ];
        var random = new Random(seed);
        var positions = Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take(Math.Max(1, count / 100)).ToList();
        return positions.Select((position, k) => (position, kinds[(firstKind + k) % kinds.Length])).ToDictionary(p => p.position, p => p.Item2);
    }

    public static LabelRequest Chunk(string batch, string chunk, IReadOnlyList<string> paths) =>
        new(batch, chunk, PipelineNames.IncomingContainer, [.. paths.Select(p => new LabelItem(p))], DateTimeOffset.UtcNow);

    public static OutgoingMessage Message(LabelRequest request) =>
        new(PipelineNames.MessageId(request.Batch, request.Chunk), ContractSerializer.ToBinary(request), LabelRequest.Subject, request.Batch);

    /// <summary>Label requests of <paramref name="chunkSize"/> images each, chunk ids c00000, c00001, ...</summary>
    public static IReadOnlyList<OutgoingMessage> Chunks(string batch, IReadOnlyList<string> names, int chunkSize) =>
        [.. names.Chunk(chunkSize).Select((paths, i) => Message(Chunk(batch, $"c{i:D5}", paths)))];

    /// <summary>Sends in slices: one call per message on Storage Queues anyway, and a slice keeps a fault's blast radius small.</summary>
    public static async Task SendAsync(IWorkQueue queue, IReadOnlyList<OutgoingMessage> messages)
    {
        foreach (OutgoingMessage[] slice in messages.Chunk(32))
            await queue.SendAsync(slice);
    }
}
