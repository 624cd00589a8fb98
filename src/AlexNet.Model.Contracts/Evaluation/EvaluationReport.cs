using System.Text.Json.Serialization;

namespace AlexNet.Model.Evaluation;

/// <summary>Accuracy of one class: how many of its images were seen and how many were top-1 correct.</summary>
public sealed record ClassAccuracy(string Class, int Images, int Correct)
{
    public double Accuracy => Images == 0 ? 0 : (double)Correct / Images;
}

/// <summary>
/// Scores of a model on labeled images under one crop mode. Errors are fractions (0.12 = 12%). The confusion
/// matrix is indexed [true class][predicted class].
/// </summary>
public sealed record EvaluationReport(
    string CropMode,
    int Images,
    double Top1Error,
    double Top5Error,
    double Loss,
    IReadOnlyList<string> Classes,
    IReadOnlyList<ClassAccuracy> PerClass,
    int[][] ConfusionMatrix)
{
    [JsonIgnore]
    public double Top1Accuracy => 1 - Top1Error;
}
