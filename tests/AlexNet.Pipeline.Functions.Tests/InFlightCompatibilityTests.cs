using System.Text.Json;
using AlexNet.Pipeline.Orchestrations;
using Azure.Core.Serialization;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// Orchestration inputs, outputs and custom status live in the task hub while an orchestration is in flight, across a
/// deployment. Those an earlier build stored with the worker's default serializer (PascalCase) must read back the same
/// with the app's serializer (camelCase). Not the other way: the earlier serializer reads case-sensitively, so a
/// rollback past this change needs the task hub drained first (docs/functions.md).
/// </summary>
public sealed class InFlightCompatibilityTests
{
    private static readonly ObjectSerializer Earlier = new JsonObjectSerializer();
    private static readonly ObjectSerializer Now = FunctionsHostingExtensions.Serializer;

    public static TheoryData<object> StoredValues() =>
    [
        new LabelBatchInput("team-a", Prefix: "team-a/2026/", ChunkSize: 64, CropMode: "ten-crop", MinConfidence: 0.7),
        new RetrainInput("shoes", Force: true, Epochs: 12, InputSize: 64, LearningRate: 0.005, Recipe: "paper", FromCurrent: true),
        new ChunkGroupInput("team-a", 50, 50, "center", 600, 3, 15, 60,
            new ChunkGroupState([51, 77], new ChunkTotals(100, 90, 3, 7, 0, 12.5), new DateTime(2026, 12, 6, 22, 0, 0, DateTimeKind.Utc), 1)),
        new BatchResult("team-a", 300, 2, 290, 10, 4, 0, 1, 30.5, 9.8, "labels/team-a/summary.json"),
        new LabelBatchProgress("labeling", 1, 2, 256, 300, 9.8, 5),
        new RetrainResult(RetrainOutcome.Refused, "shoes", "abc", "job-1", "v3", "v2", 0.5, 0.1, 0.2, 0.05, 140, 12, "near chance", "runs/job-1/metrics.json"),
    ];

    [Theory]
    [MemberData(nameof(StoredValues))]
    public void ValuesStoredByTheEarlierSerializerReadTheSameNow(object value)
    {
        Type type = value.GetType();
        string stored = Earlier.Serialize(value).ToString();
        Assert.Contains("\"", stored, StringComparison.Ordinal);
        Assert.True(char.IsUpper(JsonDocument.Parse(stored).RootElement.EnumerateObject().First().Name[0]), $"the earlier serializer wrote {stored}");

        object read = Now.Deserialize(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(stored)), type, CancellationToken.None)!;
        object again = Now.Deserialize(Now.Serialize(read).ToStream(), type, CancellationToken.None)!;

        // Compared as the earlier serializer writes them: every member, lists included.
        Assert.Equal(stored, Earlier.Serialize(read).ToString());
        Assert.Equal(stored, Earlier.Serialize(again).ToString());
        Assert.True(char.IsLower(JsonDocument.Parse(Now.Serialize(read).ToString()).RootElement.EnumerateObject().First().Name[0]));
    }
}
