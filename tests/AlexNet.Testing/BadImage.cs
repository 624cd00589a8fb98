using AlexNet.Imaging;

namespace AlexNet.Testing;

/// <summary>What a decoder must do with a <see cref="BadImage"/>.</summary>
public enum BadImageOutcome
{
    /// <summary>Refused with <see cref="BadImage.Code"/>.</summary>
    Rejected,

    /// <summary>Decoded: the name lies but the content is a valid image.</summary>
    Decoded,

    /// <summary>Either an image or a rejection with a reason (mutated bytes may still be a valid image).</summary>
    Either,
}

/// <summary>Why the corpus holds the input; bombs carry the strictest time and allocation bounds.</summary>
public enum BadImageKind
{
    Empty,
    NotAnImage,
    Bomb,
    Malformed,
    Truncated,
    Mutated,
    Mislabelled,
}

/// <summary>
/// One bad input. <see cref="Name"/> is a file name whose extension may lie about the content, as uploads do.
/// </summary>
public sealed record BadImage(string Name, byte[] Bytes, BadImageKind Kind, BadImageOutcome Outcome, RejectionCode? Code = null)
{
    public override string ToString() =>
        Outcome == BadImageOutcome.Rejected ? $"{Name} ({Bytes.Length} B) -> {Code}" : $"{Name} ({Bytes.Length} B) -> {Outcome}";
}
