using System.Globalization;

namespace AlexNet.Pipeline.Metering;

/// <summary>
/// A snapshot of <see cref="RequestCounter"/>: how many requests of each kind were made. Two snapshots subtract, so a
/// run's cost is <c>after - before</c>; <see cref="Per"/> divides by the images labeled.
/// </summary>
public sealed record RequestCounts(
    double List, double Head, double Read, double Write, double Delete, double Tag, double TagQuery,
    double Send, double Receive, double Settle, double RenewLock, double PeekDeadLetters)
{
    public static RequestCounts Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Blob requests of every kind.</summary>
    public double Blob => List + Head + Read + Write + Delete + Tag + TagQuery;

    /// <summary>Queue requests of every kind.</summary>
    public double Queue => Send + Receive + Settle + RenewLock + PeekDeadLetters;

    public double Total => Blob + Queue;

    public double this[RequestKind kind] => kind switch
    {
        RequestKind.List => List,
        RequestKind.Head => Head,
        RequestKind.Read => Read,
        RequestKind.Write => Write,
        RequestKind.Delete => Delete,
        RequestKind.Tag => Tag,
        RequestKind.TagQuery => TagQuery,
        RequestKind.Send => Send,
        RequestKind.Receive => Receive,
        RequestKind.Settle => Settle,
        RequestKind.RenewLock => RenewLock,
        RequestKind.PeekDeadLetters => PeekDeadLetters,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static RequestCounts From(Func<RequestKind, double> count) => new(
        count(RequestKind.List), count(RequestKind.Head), count(RequestKind.Read), count(RequestKind.Write), count(RequestKind.Delete),
        count(RequestKind.Tag), count(RequestKind.TagQuery), count(RequestKind.Send), count(RequestKind.Receive), count(RequestKind.Settle),
        count(RequestKind.RenewLock), count(RequestKind.PeekDeadLetters));

    public static RequestCounts operator -(RequestCounts after, RequestCounts before)
    {
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(before);
        return From(kind => after[kind] - before[kind]);
    }

    /// <summary>Each count divided by <paramref name="images"/>: the requests per image.</summary>
    public RequestCounts Per(double images)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(images);
        return From(kind => this[kind] / images);
    }

    public override string ToString() => string.Join(", ", Enum.GetValues<RequestKind>()
        .Where(kind => this[kind] != 0)
        .Select(kind => string.Create(CultureInfo.InvariantCulture, $"{kind} {this[kind]:0.###}")));
}
