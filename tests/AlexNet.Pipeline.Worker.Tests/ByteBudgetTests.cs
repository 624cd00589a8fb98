using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Worker.Tests;

public sealed class ByteBudgetTests
{
    [Fact]
    public async Task ReservationsBeyondTheBudgetWaitInTurnAndOneLargerThanTheBudgetGoesAlone()
    {
        var budget = new ByteBudget(100);
        IDisposable first = await budget.ReserveAsync(60);
        var second = budget.ReserveAsync(60).AsTask();
        var oversized = budget.ReserveAsync(1_000).AsTask();
        var small = budget.ReserveAsync(1).AsTask();

        Assert.False(second.IsCompleted);
        first.Dispose();
        IDisposable secondHeld = await second;
        Assert.False(oversized.IsCompleted);
        Assert.False(small.IsCompleted); // first come, first served: it waits behind the oversized one
        secondHeld.Dispose();
        (await oversized).Dispose();
        (await small).Dispose();
        Assert.Equal(100, budget.Peak);
    }

    [Fact]
    public async Task ACancelledWaitLeavesTheLineAndHoldsNothing()
    {
        var budget = new ByteBudget(10);
        IDisposable held = await budget.ReserveAsync(10);
        using var cancel = new CancellationTokenSource();
        var waiting = budget.ReserveAsync(5, cancel.Token).AsTask();
        var next = budget.ReserveAsync(10).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        (await next).Dispose();
        (await budget.ReserveAsync(10)).Dispose();
    }
}
