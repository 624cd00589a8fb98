using System.Diagnostics;
using System.Text.Json;
using AlexNet.Model.Inference;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Storage;

namespace AlexNet.Pipeline.Tests.Labeling;

/// <summary>
/// A local input folder with entries that are not image files in it: links that loop or leave the folder, a link
/// to a device, a FIFO, a dangling link, files deleted while the run goes on. Each gets a rejected record with its
/// reason (or is counted vanished) and the run labels the rest.
/// </summary>
public sealed class HostileFolderTests : IDisposable
{
    private readonly string images = LabelingFixture.ImageFolder(good: 4, withBadFiles: false);
    private readonly string output = Path.Combine(Path.GetTempPath(), $"alexnet-out-{Guid.NewGuid():N}");
    private readonly string outside = Path.Combine(Path.GetTempPath(), $"alexnet-outside-{Guid.NewGuid():N}");
    private readonly LocalFolderBlobStore store;
    private readonly Classifier classifier = new(LabelingFixture.Package());

    public HostileFolderTests() => store = new LocalFolderBlobStore(output);

    [Fact]
    public async Task LinksOutOfTheFolderLoopsDevicesAndFifosAreRejectedWithTheirReasonAndTheRestIsLabeled()
    {
        string good = Path.GetRelativePath(images, Directory.GetFiles(images, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First());
        Directory.CreateDirectory(outside);
        File.Copy(Path.Combine(images, good), Path.Combine(outside, "elsewhere.jpg"));
        Directory.CreateSymbolicLink(Path.Combine(images, "a", "loop"), "..");             // a loop: multiplied the files
        Directory.CreateSymbolicLink(Path.Combine(images, "out"), outside);                // a folder outside
        File.CreateSymbolicLink(Path.Combine(images, "zero.jpg"), "/dev/zero");            // read until memory ran out
        File.CreateSymbolicLink(Path.Combine(images, "escape.jpg"), Path.Combine(outside, "elsewhere.jpg"));
        File.CreateSymbolicLink(Path.Combine(images, "dangling.jpg"), "missing.jpg");
        File.CreateSymbolicLink(Path.Combine(images, "same.jpg"), good);                   // inside: read like a file
        MakeFifo(Path.Combine(images, "pipe.jpg"));                                        // opening it waited for a writer

        LabelRunResult run = await LabelingFixture.Engine(classifier, store).RunAsync("hostile", new FolderImageSource(images))
            .WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(0, run.Statistics.Failed);
        Assert.Equal(5, run.Statistics.Labeled);                                           // four images and the link inside
        Assert.Equal(6, run.Statistics.Rejected);
        Assert.Equal(11, run.Statistics.Seen);
        Dictionary<string, RejectedRecord> rejected = await RejectedAsync("hostile/");
        Assert.Equal(["a/loop", "dangling.jpg", "escape.jpg", "out", "pipe.jpg", "zero.jpg"], rejected.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("links to folders are not followed", rejected["a/loop"].Reason, StringComparison.Ordinal);
        Assert.Contains("outside the input folder", rejected["escape.jpg"].Reason, StringComparison.Ordinal);
        Assert.Contains("/dev/zero", rejected["zero.jpg"].Reason, StringComparison.Ordinal);
        Assert.Contains("does not exist", rejected["dangling.jpg"].Reason, StringComparison.Ordinal);
        Assert.Contains("FIFO", rejected["pipe.jpg"].Reason, StringComparison.Ordinal);
        Assert.Equal("Empty", rejected["pipe.jpg"].Code);
        Assert.All(rejected.Where(r => r.Key != "pipe.jpg"), r => Assert.Equal(UnreadableImageException.NotARegularFileCode, r.Value.Code));
        Assert.Contains("hostile/same.jpg.json", await LabelingFixture.ListAsync(store, LabelPaths.LabelsContainer, "hostile/"));

        // A second run finds every verdict and writes nothing new.
        LabelRunResult again = await LabelingFixture.Engine(classifier, store).RunAsync("hostile", new FolderImageSource(images));
        Assert.Equal((0, 5, 6), (again.Statistics.Labeled, again.Statistics.AlreadyLabeled, again.Statistics.Rejected));
    }

    [Fact]
    public async Task FilesDeletedDuringTheRunAreLeftOutOrCountedVanishedAndTheRunEnds()
    {
        var source = new FolderImageSource(images);
        var files = Directory.GetFiles(images, "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        // Deleted between the walk and the entry's description: left out (the listing threw FileNotFoundException).
        var listed = new List<ImageRef>();
        await foreach (ImageRef image in source.ListAsync())
        {
            if (listed.Count == 0)
                File.Delete(files[^1]);
            listed.Add(image);
        }
        Assert.Equal(files.Count - 1, listed.Count);

        // Deleted after it was listed and before it was read: vanished, and the rest is labeled.
        File.Delete(files[0]);
        LabelRunResult run = await LabelingFixture.Engine(classifier, store).RunAsync("gone", source, listed.ToAsyncEnumerable());
        Assert.Equal(0, run.Statistics.Failed); // vanished counted as failed: `alexnet label` ended with exit 1
        Assert.Equal(1, run.Statistics.Vanished);
        Assert.Equal(files.Count - 2, run.Statistics.Labeled);
        Assert.Single(run.Items, item => item.Outcome == LabelOutcome.Vanished);
    }

    private static void MakeFifo(string path)
    {
        using Process mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private async Task<Dictionary<string, RejectedRecord>> RejectedAsync(string prefix)
    {
        var records = new Dictionary<string, RejectedRecord>();
        foreach (string name in await LabelingFixture.ListAsync(store, LabelPaths.RejectedContainer, prefix))
        {
            BlobDownload download = (await store.DownloadAsync(LabelPaths.RejectedContainer, name))!;
            RejectedRecord record = JsonSerializer.Deserialize(download.Content.ToMemory().Span, LabelJsonContext.Default.RejectedRecord)!;
            records[record.Image.Path] = record;
        }
        return records;
    }

    public void Dispose()
    {
        classifier.Dispose();
        foreach (string folder in new[] { images, output, outside })
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
