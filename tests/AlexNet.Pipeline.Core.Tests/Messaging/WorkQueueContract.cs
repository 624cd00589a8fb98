using System.Diagnostics;
using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Tests.Fixtures;

namespace AlexNet.Pipeline.Tests.Messaging;

/// <summary>
/// What every <see cref="IWorkQueue"/> promises, run against each backend by a subclass, in real time with a
/// short lock. Each test instance gets its own queue.
/// </summary>
public abstract class WorkQueueContract : IAsyncLifetime
{
    protected const int MaxDeliveryCount = 3;

    protected string QueueName { get; } = UniqueNames.For("work");

    protected abstract IWorkQueue Queue { get; }

    /// <summary>The lock the backend was set up with: short, so expiry can be waited for.</summary>
    protected virtual TimeSpan LockDuration => TimeSpan.FromSeconds(2);

    /// <summary>Whether the backend drops a second message with a MessageId it has seen (in-process and Service Bus do).</summary>
    protected abstract bool SuppressesDuplicates { get; }

    /// <summary>Options for the backends this process manages; Service Bus gets the same values on its queue entity.</summary>
    protected WorkQueueOptions Options => new()
    {
        LockDuration = LockDuration,
        MaxDeliveryCount = MaxDeliveryCount,
        DuplicateDetectionWindow = TimeSpan.FromMinutes(1),
        PollInterval = TimeSpan.FromMilliseconds(100),
        PrefetchCount = 0,
    };

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [ContractFact]
    public async Task SentMessagesAreReceivedWithTheirIdBodyAndProperties()
    {
        var before = DateTimeOffset.UtcNow;
        var sent = Enumerable.Range(1, 5)
            .Select(i => new OutgoingMessage($"image-{i}", BinaryData.FromString($"{{\"ref\":\"incoming/b/{i}.jpg\"}}"), "label", "batch-b"))
            .ToList();
        await Queue.SendAsync(sent);

        var received = await ReceiveAsync(5);

        Assert.Equal(sent.Select(m => m.MessageId).Order(), received.Select(m => m.MessageId).Order());
        foreach (var message in received)
        {
            var original = sent.Single(m => m.MessageId == message.MessageId);
            Assert.Equal(original.Body.ToString(), message.Body.ToString());
            Assert.Equal("label", message.Subject);
            Assert.Equal("batch-b", message.CorrelationId);
            Assert.Equal(1, message.DeliveryCount);
            Assert.InRange(message.EnqueuedAt, before.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(2));
            await Queue.CompleteAsync(message);
        }

        await AssertEmptyAsync(TimeSpan.FromMilliseconds(300));
    }

    [ContractFact]
    public async Task AnAbandonedMessageIsRedeliveredWithAHigherDeliveryCount()
    {
        await Queue.SendAsync([new OutgoingMessage("m1", BinaryData.FromString("work"))]);

        var first = Assert.Single(await ReceiveAsync(1));
        await Queue.AbandonAsync(first);
        var second = Assert.Single(await ReceiveAsync(1));

        Assert.Equal("m1", second.MessageId);
        Assert.Equal("work", second.Body.ToString());
        Assert.Equal(first.DeliveryCount + 1, second.DeliveryCount);
        await Queue.CompleteAsync(second);
        await AssertEmptyAsync(TimeSpan.FromMilliseconds(300));
    }

    [ContractFact]
    public async Task AMessageWhoseLockExpiresIsRedeliveredAndTheOldLockIsLost()
    {
        await Queue.SendAsync([new OutgoingMessage("m1", BinaryData.FromString("work"))]);
        var first = Assert.Single(await ReceiveAsync(1));

        // Not settled: once the lock runs out the message comes back to the next receiver.
        var clock = Stopwatch.StartNew();
        var again = Assert.Single(await ReceiveAsync(1, LockDuration * 3));

        Assert.True(clock.Elapsed >= LockDuration * 0.5, $"redelivered after {clock.Elapsed}, before the lock of {LockDuration} ran out");
        Assert.Equal("m1", again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        await Assert.ThrowsAsync<MessageLockLostException>(() => Queue.CompleteAsync(first));
        await Queue.CompleteAsync(again);
    }

    [ContractFact]
    public async Task ARenewedLockKeepsTheMessageHiddenPastTheOriginalLock()
    {
        await Queue.SendAsync([new OutgoingMessage("long-batch", BinaryData.FromString("work"))]);
        var message = Assert.Single(await ReceiveAsync(1));

        await Task.Delay(LockDuration / 2);
        await Queue.RenewLockAsync(message);
        var renewed = System.Diagnostics.Stopwatch.StartNew();

        // From half the lock to 1.2 times it: past the original expiry, inside the renewed one.
        Assert.Empty(await Queue.ReceiveAsync(1, LockDuration * 0.7));

        // The renewed lock still holds, unless this machine stalled the test past it (seen once under full load:
        // then completing would rightly fail, and the hidden message above is what this test is about).
        if (renewed.Elapsed < LockDuration * 0.9)
        {
            await Queue.CompleteAsync(message);
            await AssertEmptyAsync(TimeSpan.FromMilliseconds(300));
        }
    }

    [ContractFact]
    public async Task AfterTheMaxDeliveryCountAMessageGoesToTheDeadLettersWithTheReason()
    {
        await Queue.SendAsync([new OutgoingMessage("poison", BinaryData.FromString("bad"), "label")]);
        for (var delivery = 1; delivery <= MaxDeliveryCount; delivery++)
        {
            var message = Assert.Single(await ReceiveAsync(1));
            Assert.Equal(delivery, message.DeliveryCount);
            await Queue.AbandonAsync(message);
        }

        await AssertEmptyAsync(TimeSpan.FromMilliseconds(500));
        var dead = Assert.Single(await DeadLettersAsync(1));
        Assert.Equal("poison", dead.MessageId);
        Assert.Equal("bad", dead.Body.ToString());
        Assert.Equal("label", dead.Subject);
        Assert.Equal(DeadLetterReasons.MaxDeliveryCountExceeded, dead.DeadLetterReason);
    }

    [ContractFact]
    public async Task ADeadLetteredMessageKeepsItsReasonAndContent()
    {
        await Queue.SendAsync([new OutgoingMessage("corrupt-1", BinaryData.FromString("{\"ref\":\"x.jpg\"}"), "label", "batch-9")]);
        var message = Assert.Single(await ReceiveAsync(1));

        await Queue.DeadLetterAsync(message, "image could not be decoded");

        await AssertEmptyAsync(TimeSpan.FromMilliseconds(300));
        var dead = Assert.Single(await DeadLettersAsync(5));
        Assert.Equal("corrupt-1", dead.MessageId);
        Assert.Equal("{\"ref\":\"x.jpg\"}", dead.Body.ToString());
        Assert.Equal("batch-9", dead.CorrelationId);
        Assert.Equal("image could not be decoded", dead.DeadLetterReason);
    }

    [ContractFact]
    public async Task BatchReceiveReturnsAtMostTheRequestedCount()
    {
        await Queue.SendAsync(Enumerable.Range(0, 10).Select(i => new OutgoingMessage($"m{i}", BinaryData.FromString($"{i}"))).ToList());

        var ids = new HashSet<string>();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while (ids.Count < 10 && DateTimeOffset.UtcNow < deadline)
        {
            var batch = await Queue.ReceiveAsync(4, TimeSpan.FromSeconds(2));
            Assert.InRange(batch.Count, 0, 4);
            foreach (var message in batch)
            {
                Assert.True(ids.Add(message.MessageId), $"{message.MessageId} was delivered twice while locked");
                await Queue.CompleteAsync(message);
            }
        }

        Assert.Equal(10, ids.Count);
    }

    [ContractFact]
    public async Task ASecondMessageWithTheSameIdIsDroppedWhereTheBackendPromisesIt()
    {
        await Queue.SendAsync([new OutgoingMessage("same", BinaryData.FromString("first"))]);
        await Queue.SendAsync([new OutgoingMessage("same", BinaryData.FromString("second")), new OutgoingMessage("other", BinaryData.FromString("x"))]);

        var expected = SuppressesDuplicates ? 2 : 3;
        var received = await ReceiveAsync(expected);
        await AssertEmptyAsync(TimeSpan.FromMilliseconds(500));

        var same = received.Where(m => m.MessageId == "same").Select(m => m.Body.ToString()).ToList();
        if (SuppressesDuplicates)
        {
            Assert.Equal(["first"], same);
        }
        else
        {
            // No duplicate detection (Storage Queues): both arrive, which is why handlers must be idempotent.
            Assert.Equal(["first", "second"], same.Order(StringComparer.Ordinal));
        }
    }

    [ContractFact]
    public async Task SettlingAMessageTwiceThrowsLockLost()
    {
        await Queue.SendAsync([new OutgoingMessage("m1", BinaryData.FromString("work"))]);
        var message = Assert.Single(await ReceiveAsync(1));

        await Queue.CompleteAsync(message);

        await Assert.ThrowsAsync<MessageLockLostException>(() => Queue.CompleteAsync(message));
    }

    [ContractFact]
    public async Task ReceiveOnAnEmptyQueueWaitsAboutMaxWaitAndReturnsNothing()
    {
        var clock = Stopwatch.StartNew();

        var received = await Queue.ReceiveAsync(10, TimeSpan.FromSeconds(1));

        Assert.Empty(received);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(5));
    }

    /// <summary>Receives until <paramref name="count"/> messages have arrived or the time is up, without settling them.</summary>
    protected async Task<List<ReceivedMessage>> ReceiveAsync(int count, TimeSpan? within = null)
    {
        var received = new List<ReceivedMessage>();
        var deadline = DateTimeOffset.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (received.Count < count)
        {
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            received.AddRange(await Queue.ReceiveAsync(count - received.Count, left));
        }

        return received;
    }

    protected async Task AssertEmptyAsync(TimeSpan wait)
    {
        var stray = await Queue.ReceiveAsync(10, wait);
        Assert.True(stray.Count == 0, $"expected no message, got {string.Join(", ", stray)}");
    }

    protected async Task<List<ReceivedMessage>> DeadLettersAsync(int max)
    {
        var list = new List<ReceivedMessage>();
        await foreach (var message in Queue.PeekDeadLettersAsync(max))
        {
            list.Add(message);
        }

        return list;
    }
}
