using System.Globalization;

namespace AlexNet.Pipeline.Labeling;

/// <summary>
/// The blob index tags a labeled upload carries (<c>Worker:TagSourceImages</c>): <c>top1</c> (its label, as
/// <see cref="Storage.BlobTagRules.ToValue"/> writes it), <c>model</c> (the version), and <c>top1p</c>, the top-1
/// probability with four decimals (<c>0.4231</c>, <c>1.0000</c>), fixed width so a tag query's string comparison
/// <c>"top1p" &gt;= '0.5000'</c> compares probabilities.
/// </summary>
public static class LabelTags
{
    public const string Top1 = "top1";
    public const string Model = "model";
    public const string Top1Probability = "top1p";

    public static string ProbabilityValue(double probability) =>
        Math.Clamp(probability, 0, 1).ToString("0.0000", CultureInfo.InvariantCulture);
}
