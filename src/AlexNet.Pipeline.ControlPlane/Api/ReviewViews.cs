using AlexNet.Pipeline.Labeling;

namespace AlexNet.Pipeline.Api;

/// <summary>
/// One image of a batch's review list: the model's top-5 with probabilities, how uncertain it was (top-1 probability and
/// the margin to the second), and the reviewer's decision once made.
/// </summary>
public sealed record ReviewItemView(
    string Path,
    string ModelVersion,
    IReadOnlyList<LabelScore> Top5,
    float Top1Probability,
    float Margin,
    ReviewRecord? Review);

/// <summary>
/// Where a batch's review stands: its labeled and rejected images (from <c>summary.json</c>, 0 before it is written),
/// those in <c>review.jsonl</c>, how many of them still wait for a decision, and how many decisions were made.
/// </summary>
public sealed record ReviewProgress(int Labeled, int Rejected, int NeedsReview, int ToReview, int Reviewed);

/// <summary>
/// One page of a batch's review list in the asked order (<c>confidence</c>: lowest top-1 first; <c>margin</c>: smallest
/// gap between top-1 and top-2 first), after the filters; <paramref name="Total"/> counts the filtered list and
/// <paramref name="Classes"/> the predicted top-1 classes of the whole list, for a class filter;
/// <paramref name="ModelClasses"/> every class of each model version on the page, the choices of a correction.
/// </summary>
public sealed record ReviewPageView(
    string Batch,
    string Order,
    string? Label,
    string State,
    int Offset,
    int Limit,
    int Total,
    IReadOnlyList<ReviewItemView> Items,
    IReadOnlyDictionary<string, int> Classes,
    ReviewProgress Progress,
    double? MinConfidence,
    IReadOnlyDictionary<string, IReadOnlyList<string>> ModelClasses);

/// <summary>
/// A reviewer's decision as it is posted: <paramref name="Decision"/> is one of the model's classes or <c>none</c>;
/// <paramref name="Dataset"/> the training set a class decision copies the image into; <paramref name="Reviewer"/>
/// who decided (a host that knows the caller's identity passes it instead).
/// </summary>
public sealed record ReviewDecisionInput(string? Decision, string? Reviewer = null, string? Dataset = null);

/// <summary>Bytes the API answers as they are (an image, an export file) and their media type.</summary>
public sealed record BinaryContent(byte[] Bytes, string ContentType);
