using System.Diagnostics;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Labeling;
using AlexNet.Reliability.Tests.Fixtures;
using AlexNet.Testing;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// A batch with one corrupt input in a hundred (truncated, not an image, decompression bombs, empty), labeled by the
/// worker in orchestration-sized chunks: each corrupt one gets a rejected record with its reason, every other image
/// a label, and the batch report counts both.
/// </summary>
public sealed class CorruptInputTests(ITestOutputHelper output)
{
    private const int ChunkSize = 25;

    [Fact]
    public async Task OnePercentCorruptInputsAreRejectedWithAReasonAndTheRestLabeled()
    {
        int images = Soak.Int("CORRUPT_IMAGES", ci: 400, soak: 3000);

        await using var account = new IsolatedAccount(WorkerHosts.Queues());
        await TestModels.PromoteV1Async(account.Store);
        string batch = Uploads.NewBatch("corrupt");
        Dictionary<int, CorruptInput> corrupt = Uploads.OnePercentCorrupt(images, seed: 17);
        string[] names = await Uploads.UploadAsync(account.Store, batch, images, corrupt);
        var messages = Uploads.Chunks(batch, names, ChunkSize);

        IHost host = await WorkerHosts.StartAsync(WorkerHosts.Settings("corrupt-worker"), account.Store, account.Queues);
        var clock = Stopwatch.StartNew();
        try
        {
            await Uploads.SendAsync(account.Queues.GetQueue(PipelineNames.LabelQueue), messages);
            await Soak.UntilAsync(
                () => Task.FromResult(account.Queues.Completed == messages.Count), TimeSpan.FromSeconds(60 + images / 4), "every chunk to be completed",
                () => Task.FromResult($"{account.Queues.Completed} of {messages.Count} completed"));
        }
        finally
        {
            await WorkerHosts.StopAsync(host);
        }
        double seconds = clock.Elapsed.TotalSeconds;

        AuditResult audit = await RecordAudit.RunAsync(account.Store, batch, names, account.Store);
        BatchSummary summary = await new BatchReport(account.Store, TimeProvider.System).WriteAsync(batch, minConfidence: 0.5);
        List<ChunkDone> markers = await MarkersAsync(account, batch, messages.Count);

        foreach (var (index, input) in corrupt.OrderBy(c => c.Key))
        {
            RejectedRecord? rejected = audit.Rejections.GetValueOrDefault(names[index]);
            output.WriteLine($"{names[index]} ({input.Kind}): {(rejected is null ? "NO REJECTED RECORD" : $"{rejected.Code}: {rejected.Reason}")}");
        }
        Figures.From("1% corrupt inputs", 1, corrupt.Count, audit, seconds,
            $"summary: {summary.Images} images, {summary.Labeled} labeled, {summary.Rejected} rejected ({string.Join(", ", summary.RejectionCodes.Select(c => $"{c.Key} {c.Value}"))})")
            .Report(output);

        audit.AssertClean();
        Assert.Equal(corrupt.Keys.Select(i => names[i]).Order(StringComparer.Ordinal), audit.Rejections.Keys.Order(StringComparer.Ordinal));
        Assert.All(audit.Rejections.Values, r => Assert.False(string.IsNullOrWhiteSpace(r.Reason)));
        Assert.Equal((images, images - corrupt.Count, corrupt.Count), (summary.Images, summary.Labeled, summary.Rejected));
        Assert.Equal((images, images - corrupt.Count, corrupt.Count, 0), (markers.Sum(m => m.Images), markers.Sum(m => m.Labeled), markers.Sum(m => m.Rejected), markers.Sum(m => m.Failed)));
    }

    [Fact]
    public async Task GeneratedBadInputsThroughTheWorkerEachEndWithTheDecodersVerdictOnRecord()
    {
        int truncations = Soak.Int("CORPUS_TRUNCATIONS", ci: 60, soak: 1000);
        int mutations = Soak.Int("CORPUS_MUTATIONS", ci: 100, soak: 2000);
        IReadOnlyList<BadImage> corpus = BadImageCorpus.Create(seed: 9, truncations, mutations);

        await using var account = new IsolatedAccount(WorkerHosts.Queues());
        await TestModels.PromoteV1Async(account.Store);
        string batch = Uploads.NewBatch("corpus");
        string[] names = [.. corpus.Select((item, i) => $"{batch}/{i:D5}-{item.Name}")];
        await Parallel.ForEachAsync(Enumerable.Range(0, corpus.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
            await account.Store.UploadAsync(PipelineNames.IncomingContainer, names[i], BinaryData.FromBytes(corpus[i].Bytes), cancellationToken: token));
        var messages = Uploads.Chunks(batch, names, ChunkSize);

        IHost host = await WorkerHosts.StartAsync(WorkerHosts.Settings("corpus-worker"), account.Store, account.Queues);
        var clock = Stopwatch.StartNew();
        try
        {
            await Uploads.SendAsync(account.Queues.GetQueue(PipelineNames.LabelQueue), messages);
            await Soak.UntilAsync(
                () => Task.FromResult(account.Queues.Completed == messages.Count), TimeSpan.FromSeconds(60 + corpus.Count / 4), "every chunk to be completed",
                () => Task.FromResult($"{account.Queues.Completed} of {messages.Count} completed"));
        }
        finally
        {
            await WorkerHosts.StopAsync(host);
        }
        double seconds = clock.Elapsed.TotalSeconds;

        AuditResult audit = await RecordAudit.RunAsync(account.Store, batch, names, account.Store);
        var wrong = new List<string>();
        for (int i = 0; i < corpus.Count; i++)
        {
            BadImage item = corpus[i];
            RejectedRecord? rejected = audit.Rejections.GetValueOrDefault(names[i]);
            bool labeled = audit.Labels.ContainsKey(names[i]);
            bool right = item.Outcome switch
            {
                BadImageOutcome.Rejected => rejected?.Code == item.Code.ToString(),
                BadImageOutcome.Decoded => labeled,
                _ => labeled || rejected is not null,
            };
            if (!right)
                wrong.Add($"{item}: {(labeled ? "labeled" : rejected is null ? "no record" : $"{rejected.Code}: {rejected.Reason}")}");
        }
        int handMade = BadImageCorpus.Fixed().Count, mutants = corpus.Count(c => c.Kind == BadImageKind.Mutated);
        Figures.From("generated bad inputs (corpus) through the worker", 1, corpus.Count, audit, seconds,
            $"{corpus.Count - handMade - mutants} truncations, {mutants} mutants, {handMade} hand-made (bombs, foreign files, lying names); " +
            $"{wrong.Count} verdicts differ from the decoder's expectation")
            .Report(output);

        audit.AssertClean();
        Assert.True(wrong.Count == 0, string.Join('\n', wrong.Take(20)));
    }

    private static async Task<List<ChunkDone>> MarkersAsync(IsolatedAccount account, string batch, int chunks)
    {
        var markers = new List<ChunkDone>();
        for (int i = 0; i < chunks; i++)
        {
            var marker = await account.Store.DownloadAsync(PipelineNames.RunsContainer, PipelineNames.ChunkDoneBlob(batch, $"c{i:D5}"));
            Assert.True(marker is not null, $"chunk c{i:D5} has no done marker");
            markers.Add(ContractSerializer.FromBinary<ChunkDone>(marker.Content));
        }
        return markers;
    }
}
