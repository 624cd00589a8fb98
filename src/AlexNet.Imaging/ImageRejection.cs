namespace AlexNet.Imaging;

/// <summary>A refused input: a stable code and one human sentence with the numbers that decided it.</summary>
public sealed record ImageRejection(RejectionCode Code, string Reason)
{
    public override string ToString() => $"{Code}: {Reason}";
}
