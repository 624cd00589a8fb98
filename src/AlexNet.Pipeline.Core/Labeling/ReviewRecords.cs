namespace AlexNet.Pipeline.Labeling;

/// <summary>What a reviewer decided about the model's labels of one image.</summary>
public static class ReviewOutcome
{
    /// <summary>The model's top-1 is right.</summary>
    public const string Confirmed = "confirmed";

    /// <summary>Another of the model's classes is right.</summary>
    public const string Corrected = "corrected";

    /// <summary>None of the model's classes fits the image.</summary>
    public const string None = "none";
}

/// <summary>
/// A reviewer's decision on one labeled image: <c>labels/&lt;batch&gt;/reviews/&lt;path&gt;.json</c>
/// (<see cref="LabelPaths.ReviewRecord"/>). <paramref name="Decision"/> is the class the image belongs to, or
/// <c>none</c>; for a class, <paramref name="TrainingBlob"/> is the copy of the image in <c>training/</c>
/// (<c>&lt;dataset&gt;/&lt;class&gt;/&lt;file&gt;</c>), which the next retrain of that data set picks up.
/// </summary>
/// <param name="Source">The image as it was reviewed: its container, full blob name, ETag and SHA-256.</param>
/// <param name="ModelTop1">The model's top-1 when the image was labeled, and its probability.</param>
public sealed record ReviewRecord(
    string Batch,
    string Path,
    ImageIdentity Source,
    string Reviewer,
    DateTimeOffset ReviewedAt,
    string ModelVersion,
    LabelScore ModelTop1,
    string Decision,
    string Outcome,
    string? Dataset,
    string? TrainingBlob);
