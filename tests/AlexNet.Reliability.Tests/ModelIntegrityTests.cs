using AlexNet.Testing;
using System.Diagnostics;
using AlexNet.Model.Packaging;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Models;
using AlexNet.Pipeline.Worker;
using AlexNet.Reliability.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace AlexNet.Reliability.Tests;

/// <summary>
/// A promoted model whose weights lost a bit in storage, seen from the running worker: the SHA-256 check refuses the
/// load, the worker keeps the model it has and goes on labeling with it. (ModelPackageTests.OneFlippedByteInTheWeightsIsRefused
/// in AlexNet.Model.Tests checks the package reader alone.)
/// </summary>
public sealed class ModelIntegrityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PromotedModelWithAFlippedWeightByteIsRefusedAndTheWorkerKeepsLabelingWithItsModel()
    {
        await using var account = new IsolatedAccount(WorkerHosts.Queues());
        await TestModels.PromoteV1Async(account.Store);
        string batch = Uploads.NewBatch("integrity");
        string[] names = await Uploads.UploadAsync(account.Store, batch, 40);

        var clock = Stopwatch.StartNew();
        IHost host = await WorkerHosts.StartAsync(WorkerHosts.Settings("integrity-worker"), account.Store, account.Queues);
        try
        {
            // v2: v1's manifest under a new version (sealed again, so only the weights are wrong), its weights with one
            // bit flipped in the middle.
            ModelPackage v1 = TestModels.V1;
            ModelManifest v2 = v1.Manifest with { Version = "v2" };
            v2 = v2 with { ManifestSha256 = v2.ComputeManifestSha256() };
            byte[] weights = v1.WeightsBytes.ToArray();
            weights[weights.Length / 2] ^= 0x10;
            await account.Store.UploadAsync(PipelineNames.ModelsContainer, $"v2/{v1.Manifest.WeightsFile}", BinaryData.FromBytes(weights));
            await account.Store.UploadAsync(PipelineNames.ModelsContainer, $"v2/{ModelPackage.ManifestFileName}", BinaryData.FromBytes(v2.ToJson()));
            await new ModelRegistry(account.Store, TimeProvider.System).PromoteAsync("v2", "a damaged candidate");

            var models = host.Services.GetRequiredService<ModelHolder>();
            var registry = new ModelRegistry(account.Store, TimeProvider.System);
            await Assert.ThrowsAsync<ModelIntegrityException>(() => registry.LoadAsync("v2"));

            // Several refresh intervals (1 s each) go by; the worker refused v2 once and keeps v1.
            await Task.Delay(TimeSpan.FromSeconds(3.5));
            Assert.Equal("v2", models.FailedVersion);
            Assert.Equal("v1", models.CurrentVersion);

            var messages = Uploads.Chunks(batch, names, 10);
            await Uploads.SendAsync(account.Queues.GetQueue(PipelineNames.LabelQueue), messages);
            await Soak.UntilAsync(() => Task.FromResult(account.Queues.Completed == messages.Count), TimeSpan.FromSeconds(60), "every chunk to be labeled");
        }
        finally
        {
            await WorkerHosts.StopAsync(host);
        }

        AuditResult audit = await RecordAudit.RunAsync(account.Store, batch, names, account.Store);
        Figures.From("flipped weight byte in a promoted model", 1, 1, audit, clock.Elapsed.TotalSeconds, "load refused (SHA-256), worker kept v1 and labeled the batch with it").Report(output);
        audit.AssertClean();
        Assert.All(audit.Labels.Values, record => Assert.Equal("v1", record.Model.Version));
    }
}
