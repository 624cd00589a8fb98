using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Storage;
using AlexNet.Reliability.Tests.Fixtures;
using AlexNet.Testing;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// <c>alexnet models</c> as a user runs it, a process of its own, against the built <c>alexnet pipeline</c> on a
/// private Azurite: a package made on this machine published through the API, promoted by force with a reason, used
/// for the next upload's label record; published again (a no-op), another package under its version and a tampered
/// one refused, a second version promoted and rolled back; and a model put through Retrain's gate on a data set in
/// storage, where a network that learned nothing is refused.
/// </summary>
public sealed class ModelPublishTests(ITestOutputHelper output) : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("alexnet-models-publish-").FullName;

    [Fact]
    public async Task APublishedPackageIsPromotedByForceLabelsTheNextUploadAndRollsBack()
    {
        await using var azurite = await PrivateAzurite.StartAsync();
        var store = new AzureBlobStore(new BlobServiceClient(azurite.ConnectionString), NullLogger<AzureBlobStore>.Instance);
        var registry = new ModelRegistry(store, TimeProvider.System);
        await using var pipeline = await LocalPipeline.StartAsync(azurite, "mp" + Guid.NewGuid().ToString("N")[..12], sweepSeconds: 1, output, ready: false);
        string api = pipeline.Address.ToString();

        string first = SavePackage("laptop-1", seed: 11);
        CommandRun published = await RunAsync("models", "publish", first, "--api", api, "--promote", "--force", "--reason", "first model, trained on the laptop");
        published.AssertExit(0);
        Assert.Contains("published model laptop-1", published.Output, StringComparison.Ordinal);
        CurrentModelPointer current = (await registry.GetCurrentAsync())!;
        Assert.Equal("laptop-1", current.Version);
        Assert.Equal("promoted by hand: first model, trained on the laptop", current.Reason);
        ModelPackage stored = await registry.LoadAsync("laptop-1");
        Assert.Equal(ModelPackage.LoadDirectory(first).Manifest.WeightsSha256, stored.Manifest.WeightsSha256);

        // The running pipeline labels the next upload with it.
        string batch = Uploads.NewBatch("published");
        string[] names = await Uploads.UploadAsync(store, batch, 3);
        var watch = new RecordWatch(store, batch);
        await pipeline.UntilAsync(async () => await watch.CountAsync() == names.Length, TimeSpan.FromSeconds(120), $"{names.Length} records", async () => $"{await watch.CountAsync()} records");
        AuditResult audit = await RecordAudit.RunAsync(store, batch, names);
        audit.AssertClean();
        Assert.Equal(names.Length, audit.Labeled);
        Assert.All(audit.Labels.Values, record => Assert.Equal(("laptop-1", stored.Manifest.WeightsSha256), (record.Model.Version, record.Model.WeightsSha256)));

        // The same package again: nothing written.
        BlobEntry weightsBefore = (await store.GetEntryAsync(PipelineNames.ModelsContainer, "laptop-1/" + ModelPackage.WeightsFileName))!;
        CommandRun again = await RunAsync("models", "publish", first, "--api", api);
        again.AssertExit(0);
        Assert.Contains("nothing uploaded", again.Output, StringComparison.Ordinal);
        Assert.Equal(weightsBefore.ETag, (await store.GetEntryAsync(PipelineNames.ModelsContainer, "laptop-1/" + ModelPackage.WeightsFileName))!.ETag);

        // Another package under the same version: refused by the pipeline, the published one untouched.
        CommandRun clash = await RunAsync("models", "publish", SavePackage("laptop-1", seed: 12), "--api", api);
        clash.AssertExit(1);
        Assert.Contains("already published with other weights", clash.Error, StringComparison.Ordinal);
        Assert.Equal(stored.Manifest.WeightsSha256, (await registry.LoadAsync("laptop-1")).Manifest.WeightsSha256);

        // A tampered package: refused by the command before upload, and by the API when sent around the command.
        string tampered = SavePackage("laptop-t", seed: 13);
        FlipByte(Path.Combine(tampered, ModelPackage.WeightsFileName));
        CommandRun refused = await RunAsync("models", "publish", tampered, "--api", api);
        refused.AssertExit(2);
        Assert.Contains("SHA-256", refused.Error, StringComparison.Ordinal);
        using (var http = new HttpClient { BaseAddress = pipeline.Address })
        using (var body = new ByteArrayContent(Tar(tampered)))
        {
            body.Headers.ContentType = new MediaTypeHeaderValue(ModelPackageArchive.ContentType);
            using HttpResponseMessage response = await http.PutAsync(new Uri("api/models/laptop-t", UriKind.Relative), body);
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
            Assert.Contains("SHA-256", text, StringComparison.Ordinal);
        }
        Assert.Null(await registry.GetManifestAsync("laptop-t"));

        // A second version promoted by force, listed, shown, then rolled back.
        string second = SavePackage("laptop-2", seed: 14);
        (await RunAsync("models", "publish", second, "--api", api, "--promote", "--force", "--reason", "hotfix")).AssertExit(0);
        Assert.Equal("laptop-2", (await registry.GetCurrentAsync())!.Version);
        CommandRun list = await RunAsync("models", "list", "--api", api, "--json");
        list.AssertExit(0);
        using (JsonDocument models = JsonDocument.Parse(list.Output))
        {
            Assert.Equal(["laptop-1", "laptop-2"], models.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("version").GetString()!).Order(StringComparer.Ordinal));
            Assert.Equal("laptop-2", models.RootElement.GetProperty("current").GetProperty("version").GetString());
        }
        CommandRun show = await RunAsync("models", "show", "laptop-2", "--api", api);
        show.AssertExit(0);
        Assert.Contains(ModelPackage.LoadDirectory(second).Manifest.WeightsSha256, show.Output, StringComparison.Ordinal);
        Assert.Contains("promoted by hand: hotfix", (await RunAsync("models", "list", "--api", api)).Output, StringComparison.Ordinal);
        CommandRun rollback = await RunAsync("models", "rollback", "--api", api);
        rollback.AssertExit(0);
        Assert.Equal("laptop-1", (await registry.GetCurrentAsync())!.Version);
        CommandRun nothingLeft = await RunAsync("models", "rollback", "--api", api);
        nothingLeft.AssertExit(1);
        Assert.Contains("no earlier version", nothingLeft.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AModelThatLearnedNothingIsRefusedAtTheGateAndStaysPublishedButNotCurrentAndStorageTakesPackagesDirectly()
    {
        await using var azurite = await PrivateAzurite.StartAsync();
        var store = new AzureBlobStore(new BlobServiceClient(azurite.ConnectionString), NullLogger<AzureBlobStore>.Instance);
        var registry = new ModelRegistry(store, TimeProvider.System);
        await using var pipeline = await LocalPipeline.StartAsync(azurite, "mg" + Guid.NewGuid().ToString("N")[..12], sweepSeconds: 1, output, ready: false);

        // A labeled set in storage with the package's classes: 12 photos each, nothing to learn from a random network.
        await Parallel.ForEachAsync(Enumerable.Range(0, 120), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
            await store.UploadAsync(PipelineNames.TrainingContainer, $"gate/class-{i % 10}/img-{i:D3}.jpg", BinaryData.FromBytes(Uploads.Photo(i, seed: 5)), "image/jpeg", cancellationToken: token));

        CommandRun gated = await RunAsync("models", "publish", SavePackage("random-1", seed: 21), "--api", pipeline.Address.ToString(),
            "--promote", "--evaluate-on", "gate", "--wait-minutes", "5");
        gated.AssertExit(1);
        Assert.Contains("published model random-1", gated.Output, StringComparison.Ordinal);
        Assert.Contains("model random-1 refused: refused: the candidate did not clearly beat the majority-class baseline", gated.Output, StringComparison.Ordinal);
        Assert.Null(await registry.GetCurrentAsync());
        Assert.NotNull(await registry.GetManifestAsync("random-1"));

        // Straight to storage with --storage: the same checks and the same no-op the second time.
        string direct = SavePackage("random-2", seed: 22);
        CommandRun stored = await RunAsync("models", "publish", direct, "--storage", azurite.ConnectionString);
        CommandRun storedAgain = await RunAsync("models", "publish", direct, "--storage", azurite.ConnectionString);
        stored.AssertExit(0);
        storedAgain.AssertExit(0);
        Assert.Contains("uploaded and read back intact", stored.Output, StringComparison.Ordinal);
        Assert.Contains("nothing uploaded", storedAgain.Output, StringComparison.Ordinal);
        Assert.Equal(ModelPackage.LoadDirectory(direct).Manifest.WeightsSha256, (await registry.LoadAsync("random-2")).Manifest.WeightsSha256);
    }

    /// <summary>A random-weight 10-class package at 64x64 input, saved as alexnet train saves one.</summary>
    private string SavePackage(string version, int seed)
    {
        ModelPackage package = TestModels.Build(version, seed);
        string folder = Path.Combine(temp, $"{version}-{seed}");
        package.SaveDirectory(folder);
        return folder;
    }

    private static void FlipByte(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^100] ^= 0x01;
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>The folder as a tar stream, written with the BCL's tar writer, not the project's.</summary>
    private static byte[] Tar(string folder)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(Path.Combine(folder, ModelPackage.ManifestFileName), ModelPackage.ManifestFileName);
            writer.WriteEntry(Path.Combine(folder, ModelPackage.WeightsFileName), ModelPackage.WeightsFileName);
        }
        return buffer.ToArray();
    }

    /// <summary>Runs the built <c>alexnet</c> command and waits for it.</summary>
    private async Task<CommandRun> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Repository.CliAssembly);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment.Remove("ALEXNET_API_TOKEN");
        start.Environment.Remove("ALEXNET_API_URL");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        await process.WaitForExitAsync(timeout.Token);
        var run = new CommandRun(string.Join(' ', arguments), process.ExitCode, await stdout, await stderr);
        output.WriteLine($"alexnet {run.Arguments} -> {run.ExitCode}\n{run.Output}{run.Error}");
        return run;
    }

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private sealed record CommandRun(string Arguments, int ExitCode, string Output, string Error)
    {
        public void AssertExit(int expected) =>
            Assert.True(ExitCode == expected, $"alexnet {Arguments}: exit {ExitCode}, expected {expected}\nstdout: {Output}\nstderr: {Error}");
    }
}
