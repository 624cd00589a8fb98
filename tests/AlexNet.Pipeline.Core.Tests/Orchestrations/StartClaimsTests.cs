using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Orchestrations;
using AlexNet.Pipeline.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AlexNet.Pipeline.Tests.Orchestrations;

/// <summary>One start per instance id among racing callers; a failed, terminated or abandoned start can be taken over by one of them.</summary>
public sealed class StartClaimsTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"alexnet-claims-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task OfTwentyRacingCallersExactlyOneClaimsTheId()
    {
        var claims = new StartClaims(new LocalFolderBlobStore(root), time);
        bool[] won = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
            claims.TryClaimAsync("b1", _ => Status(OrchestrationState.NotFound)))));
        Assert.Equal(1, won.Count(w => w));
    }

    [Theory]
    [InlineData(OrchestrationState.Pending, false)]
    [InlineData(OrchestrationState.Running, false)]
    [InlineData(OrchestrationState.Completed, false)]
    [InlineData(OrchestrationState.Failed, true)]
    [InlineData(OrchestrationState.Terminated, true)]
    [InlineData(OrchestrationState.NotFound, false)]
    public async Task AClaimedIdIsFreeAgainOnlyOnceItsInstanceFailedOrWasTerminated(OrchestrationState state, bool free)
    {
        var claims = new StartClaims(new LocalFolderBlobStore(root), time);
        Assert.True(await claims.TryClaimAsync("b2", _ => Status(OrchestrationState.NotFound)));
        // The instance ended after the claim was written.
        Assert.Equal(free, await claims.TryClaimAsync("b2", _ => Status(state, DateTimeOffset.UtcNow.AddSeconds(5))));
    }

    [Fact]
    public async Task ARestartOfAFailedInstanceGoesToOneOfTheRacingCallers()
    {
        var claims = new StartClaims(new LocalFolderBlobStore(root), time);
        Assert.True(await claims.TryClaimAsync("b3", _ => Status(OrchestrationState.NotFound)));
        await Task.Delay(50);
        DateTimeOffset failedAt = DateTimeOffset.UtcNow; // the instance failed after its claim was written
        await Task.Delay(50);
        bool[] won = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
            claims.TryClaimAsync("b3", _ => Status(OrchestrationState.Failed, failedAt)))));
        Assert.Equal(1, won.Count(w => w));

        // The winner's claim is newer than the failure: a restart is under way, so nobody else may take it.
        Assert.False(await claims.TryClaimAsync("b3", _ => Status(OrchestrationState.Failed, failedAt)));
    }

    [Fact]
    public async Task AClaimWhoseInstanceNeverAppearedIsTakenOverAfterTheSettleTime()
    {
        var store = new LocalFolderBlobStore(root);
        var claims = new StartClaims(store, time);
        Assert.True(await claims.TryClaimAsync("b4", _ => Status(OrchestrationState.NotFound)));
        Assert.False(await claims.TryClaimAsync("b4", _ => Status(OrchestrationState.NotFound)));

        time.Advance(StartClaims.Settle + TimeSpan.FromSeconds(5));
        Assert.True(await claims.TryClaimAsync("b4", _ => Status(OrchestrationState.NotFound)));
        Assert.NotNull(await store.GetEntryAsync(PipelineNames.RunsContainer, StartClaims.ClaimBlob("b4")));
    }

    private static Task<OrchestrationStatus> Status(OrchestrationState state, DateTimeOffset? lastUpdated = null) =>
        Task.FromResult(new OrchestrationStatus("id", "LabelBatch", state, null, null, null, null, lastUpdated));

    public void Dispose()
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
    }
}
