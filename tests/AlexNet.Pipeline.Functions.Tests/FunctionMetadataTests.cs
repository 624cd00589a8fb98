using System.Reflection;
using System.Text.Json;
using AlexNet.Pipeline.Functions.Durable;
using AlexNet.Pipeline.Orchestrations;
using Microsoft.Azure.Functions.Worker;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>
/// What the Functions host will index: the <c>functions.metadata</c> the worker SDK generates at build (copied next to
/// these tests with the app's assembly), read as the host reads it.
/// </summary>
public sealed class FunctionMetadataTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, JsonElement>> Functions = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: the worker SDK generates it when the Functions project builds");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    });

    public static TheoryData<string, string, string?> TriggerFunctions() => new()
    {
        { "OnImageUploaded", "blobTrigger", "incoming/{name}" },
        { "OnUploadEvent", "queueTrigger", "upload-events" },
        { "SweepIncoming", "timerTrigger", "%IngestSweepSchedule%" },
        { "RetrainTimer", "timerTrigger", "%RetrainSchedule%" },
        { "StartBatch", "httpTrigger", "batches/{batch}" },
        { "GetBatchStatus", "httpTrigger", "batches/{batch}" },
        { "GetImageLabels", "httpTrigger", "labels/{batch}/{*path}" },
        { "ListModels", "httpTrigger", "models" },
        { "PublishModel", "httpTrigger", "models/{version}" },
        { "PromoteModel", "httpTrigger", "models/{version}/promote" },
        { "RollbackModel", "httpTrigger", "models/rollback" },
        { "StartRetrain", "httpTrigger", "retrain/{dataset}" },
        { "GetRetrainStatus", "httpTrigger", "retrain/runs/{instanceId}" },
        { "ReviewPage", "httpTrigger", "review" },
        { "GetReviewList", "httpTrigger", "review/{batch}" },
        { "GetReviewImage", "httpTrigger", "review/{batch}/images/{*path}" },
        { "DecideReview", "httpTrigger", "review/{batch}/decisions/{*path}" },
        { "ExportLabels", "httpTrigger", "export/{batch}/{tool}" },
        { "ImportAnnotations", "httpTrigger", "import/{dataset}/{tool}" },
        { "FindImages", "httpTrigger", "images" },
    };

    [Theory]
    [MemberData(nameof(TriggerFunctions))]
    public void EachTriggerFunctionIsIndexedWithItsTriggerAndAddress(string name, string trigger, string? address)
    {
        JsonElement binding = Trigger(name);

        Assert.Equal(trigger, binding.GetProperty("type").GetString());
        string property = trigger switch { "blobTrigger" => "path", "queueTrigger" => "queueName", "timerTrigger" => "schedule", _ => "route" };
        Assert.Equal(address, binding.GetProperty(property).GetString());
    }

    [Fact]
    public void TheUploadTriggerUsesTheEventGridSourceOnTheStorageConnection()
    {
        JsonElement binding = Trigger("OnImageUploaded");

        Assert.Equal("EventGrid", binding.GetProperty("source").GetString());
        Assert.Equal("Storage", binding.GetProperty("connection").GetString());
        Assert.Equal("Storage", Trigger("OnUploadEvent").GetProperty("connection").GetString());
    }

    /// <summary>What changes the current model or spends GPU hours takes the admin key; reading and starting batches a function key.</summary>
    private static readonly HashSet<string> AdminFunctions = ["PublishModel", "PromoteModel", "RollbackModel", "StartRetrain"];

    [Fact]
    public void ReadingTakesAFunctionKeyChangingTheModelOrRetrainingTheAdminKeyAndEveryRouteGetsADurableClient()
    {
        foreach (var (name, _, _) in TriggerFunctions().Select(row => ((string)row[0], (string)row[1], (string?)row[2])).Where(row => row.Item2 == "httpTrigger"))
        {
            Assert.Equal(AdminFunctions.Contains(name) ? "Admin" : "Function", Trigger(name).GetProperty("authLevel").GetString());
            // The review page is a static file: it starts and reads nothing itself.
            if (name != "ReviewPage")
                Assert.Contains(Bindings(name), b => b.GetProperty("type").GetString() == "durableClient");
        }
    }

    [Fact]
    public void EveryOrchestratorAndActivityOfTheRegistryHasItsTriggerFunction()
    {
        foreach (DurableTaskType orchestrator in OrchestrationRegistry.Orchestrators)
            Assert.Equal("orchestrationTrigger", Trigger(orchestrator.Name).GetProperty("type").GetString());
        foreach (DurableTaskType activity in OrchestrationRegistry.Activities)
            Assert.Equal("activityTrigger", Trigger(activity.Name).GetProperty("type").GetString());

        int durable = OrchestrationRegistry.Orchestrators.Count + OrchestrationRegistry.Activities.Count;
        Assert.Equal(durable + TriggerFunctions().Count, Functions.Value.Count);
    }

    [Fact]
    public void EachActivityFunctionTakesAndReturnsWhatItsClassDoes()
    {
        var methods = typeof(ActivityFunctions).GetMethods()
            .Select(m => (Method: m, Name: m.GetCustomAttribute<FunctionAttribute>()?.Name))
            .Where(m => m.Name is not null)
            .ToDictionary(m => m.Name!, m => m.Method);
        foreach (DurableTaskType activity in OrchestrationRegistry.Activities)
        {
            MethodInfo method = methods[activity.Name];
            Assert.Equal(activity.InputType, method.GetParameters()[0].ParameterType);
            Assert.Equal(typeof(Task<>).MakeGenericType(activity.OutputType), method.ReturnType);
        }
    }

    private static IEnumerable<JsonElement> Bindings(string function)
    {
        Assert.True(Functions.Value.TryGetValue(function, out JsonElement metadata), $"function {function} is not in functions.metadata");
        return metadata.GetProperty("bindings").EnumerateArray();
    }

    private static JsonElement Trigger(string function) =>
        Assert.Single(Bindings(function), b => b.GetProperty("direction").GetString() == "In" && b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
}
