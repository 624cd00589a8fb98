using AlexNet.Pipeline.Messaging;
using Microsoft.Extensions.Time.Testing;

namespace AlexNet.Pipeline.Tests.Messaging;

public sealed class InProcessWorkQueueTests : WorkQueueContract
{
    public InProcessWorkQueueTests()
    {
        Queue = new InProcessWorkQueue(QueueName, Options, TimeProvider.System);
    }

    protected override IWorkQueue Queue { get; }

    protected override bool SuppressesDuplicates => true;

    [Fact]
    public async Task TheLockRunsOnTheInjectedClock()
    {
        var time = new FakeTimeProvider();
        var queue = new InProcessWorkQueue("q", new WorkQueueOptions { LockDuration = TimeSpan.FromMinutes(5) }, time);
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("x"))]);
        Assert.Single(await queue.ReceiveAsync(1, TimeSpan.Zero));

        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.Zero));
        time.Advance(TimeSpan.FromMilliseconds(1));
        var again = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.Zero));

        Assert.Equal(2, again.DeliveryCount);
    }

    [Fact]
    public async Task ARenewalRestartsTheLockFromNow()
    {
        var time = new FakeTimeProvider();
        var queue = new InProcessWorkQueue("q", new WorkQueueOptions { LockDuration = TimeSpan.FromMinutes(1) }, time);
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("x"))]);
        var message = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.Zero));

        time.Advance(TimeSpan.FromSeconds(50));
        await queue.RenewLockAsync(message);
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Empty(await queue.ReceiveAsync(1, TimeSpan.Zero));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Single(await queue.ReceiveAsync(1, TimeSpan.Zero));
        await Assert.ThrowsAsync<MessageLockLostException>(() => queue.RenewLockAsync(message));
    }

    [Fact]
    public async Task AnIdIsAcceptedAgainOnceTheDuplicateWindowHasPassed()
    {
        var time = new FakeTimeProvider();
        var queue = new InProcessWorkQueue("q", new WorkQueueOptions { DuplicateDetectionWindow = TimeSpan.FromMinutes(10) }, time);
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("1"))]);
        time.Advance(TimeSpan.FromMinutes(9));
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("2"))]);
        time.Advance(TimeSpan.FromMinutes(2));
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("3"))]);

        var received = await queue.ReceiveAsync(10, TimeSpan.Zero);

        Assert.Equal(["1", "3"], received.Select(m => m.Body.ToString()));
    }

    [Fact]
    public async Task AWaitingReceiveWakesWhenAMessageIsSent()
    {
        var queue = new InProcessWorkQueue("q", new WorkQueueOptions(), TimeProvider.System);
        var receive = queue.ReceiveAsync(5, TimeSpan.FromSeconds(30));
        await queue.SendAsync([new OutgoingMessage("m", BinaryData.FromString("x"))]);

        var received = await receive.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("m", Assert.Single(received).MessageId);
    }

    [Fact]
    public void TheFactoryGivesOneQueuePerName()
    {
        var factory = new InProcessWorkQueueFactory(new WorkQueueOptions(), TimeProvider.System);

        Assert.Same(factory.GetQueue("a"), factory.GetQueue("a"));
        Assert.NotSame(factory.GetQueue("a"), factory.GetQueue("b"));
        Assert.Equal("b", factory.GetQueue("b").Name);
    }
}
