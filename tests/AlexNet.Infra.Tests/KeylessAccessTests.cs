using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlexNet.Infra.Tests;

/// <summary>Nothing in the deployment carries or fetches a key; storage and Service Bus refuse key-based auth.</summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class KeylessAccessTests(CompiledTemplate template)
{
    [Fact]
    public void TemplateCallsNoListFunction()
    {
        var calls = ListFunctionCall().Matches(template.Text).Select(match => match.Value).Distinct().ToList();

        Assert.True(calls.Count == 0, $"list* calls fetch keys or secrets at deployment: {string.Join(", ", calls)}");
    }

    [Theory]
    [InlineData("AccountKey=")]
    [InlineData("SharedAccessKey=")]
    [InlineData("SharedAccessSignature=")]
    [InlineData("DefaultEndpointsProtocol=")]
    [InlineData("UseDevelopmentStorage")]
    public void TemplateHoldsNoConnectionStringWithKey(string fragment)
    {
        Assert.DoesNotContain(fragment, template.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void NoSecretsAreCreatedOrPassed()
    {
        Assert.DoesNotContain(template.AllResources, resource =>
            resource.Type.EndsWith("/authorizationRules", StringComparison.OrdinalIgnoreCase) ||
            resource.Type.Contains("/secrets", StringComparison.OrdinalIgnoreCase));
        var secureParameters = template.AllTemplates
            .SelectMany(t => t.Json.GetProperty("parameters").EnumerateObject().Select(p => (t.Name, p)))
            .Where(entry => entry.p.Value.GetProperty("type").GetString()!.StartsWith("secure", StringComparison.OrdinalIgnoreCase))
            .Select(entry => $"{entry.Name}.{entry.p.Name}")
            .ToList();
        Assert.True(secureParameters.Count == 0, $"secure parameters mean a secret is being passed: {string.Join(", ", secureParameters)}");
    }

    [Fact]
    public void StorageAccountAcceptsOnlyEntraIdOverTls12()
    {
        var account = template.Module("storage").Single("Microsoft.Storage/storageAccounts");

        Assert.False(account.Property("allowSharedKeyAccess").GetBoolean());
        Assert.False(account.Property("allowBlobPublicAccess").GetBoolean());
        Assert.Equal("TLS1_2", account.Property("minimumTlsVersion").GetString());
        Assert.True(account.Property("supportsHttpsTrafficOnly").GetBoolean());
        Assert.True(account.Property("defaultToOAuthAuthentication").GetBoolean());
    }

    [Fact]
    public void BlobsKeepVersionsAndSoftDeletedCopies()
    {
        var storage = template.Module("storage");
        var blobService = storage.Single("Microsoft.Storage/storageAccounts/blobServices");

        Assert.True(blobService.Property("isVersioningEnabled").GetBoolean());
        Assert.True(blobService.Property("deleteRetentionPolicy", "enabled").GetBoolean());
        Assert.True(blobService.Property("containerDeleteRetentionPolicy", "enabled").GetBoolean());
        var days = storage.Evaluate(blobService.Property("deleteRetentionPolicy", "days"));
        Assert.True(days is { ValueKind: JsonValueKind.Number } d && d.GetInt32() >= 1, "soft delete keeps blobs for at least a day by default");
    }

    [Fact]
    public void StorageHasTheSixDataContainersAndNoneIsPublic()
    {
        var storage = template.Module("storage");
        var containers = storage.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").ToList();
        var looped = Assert.Single(containers, container => container.Json.TryGetProperty("copy", out _));
        // A resource loop compiles to copy.count = length(variables('x')) and a name indexed by copyIndex().
        var loopVariable = Regex.Match(looped.Json.GetProperty("copy").GetProperty("count").GetString()!, @"variables\('(\w+)'\)").Groups[1].Value;
        var names = storage.Evaluate(JsonSerializer.SerializeToElement($"[variables('{loopVariable}')]"));

        Assert.NotNull(names);
        Assert.Equal(
            ["incoming", "labels", "models", "rejected", "runs", "training"],
            names.Value.EnumerateArray().Select(name => name.GetString()!).Order(StringComparer.Ordinal));
        Assert.All(containers, container => Assert.Equal("None", container.Property("publicAccess").GetString()));
    }

    [Fact]
    public void ServiceBusNamespaceRefusesSharedAccessSignatures()
    {
        var serviceBus = template.Module("servicebus");
        var ns = serviceBus.Single("Microsoft.ServiceBus/namespaces");

        Assert.True(ns.Property("disableLocalAuth").GetBoolean());
        Assert.Equal("1.2", ns.Property("minimumTlsVersion").GetString());
        Assert.Equal("Standard", serviceBus.EvaluateString(ns.Json.GetProperty("sku").GetProperty("name")));
        var allowed = serviceBus.Json.GetProperty("parameters").GetProperty("skuName").GetProperty("allowedValues");
        Assert.Contains("Premium", allowed.EnumerateArray().Select(value => value.GetString()));
    }

    [Fact]
    public void LabelRequestsQueueLocksFiveMinutesDedupesTenMinutesAndDeadLettersExpiredMessages()
    {
        var queue = Queue("label-requests");

        Assert.Equal("PT5M", queue.Property("lockDuration").GetString());
        Assert.Equal(10, queue.Property("maxDeliveryCount").GetInt32());
        Assert.True(queue.Property("requiresDuplicateDetection").GetBoolean());
        Assert.Equal("PT10M", queue.Property("duplicateDetectionHistoryTimeWindow").GetString());
        Assert.True(queue.Property("deadLetteringOnMessageExpiration").GetBoolean());
    }

    [Fact]
    public void TrainJobsQueueLocksFiveMinutesAllowsThreeDeliveriesAndDedupes()
    {
        var queue = Queue("train-jobs");

        Assert.Equal("PT5M", queue.Property("lockDuration").GetString());
        Assert.Equal(3, queue.Property("maxDeliveryCount").GetInt32());
        Assert.True(queue.Property("requiresDuplicateDetection").GetBoolean());
    }

    [Fact]
    public void UploadEventsAreBlobCreatedInIncomingDeliveredWithoutAnEndpointKey()
    {
        var events = template.Module("upload-events");
        var subscriptions = events.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions").ToList();

        Assert.NotEmpty(subscriptions);
        Assert.All(subscriptions, subscription =>
        {
            var filter = events.Evaluate(subscription.Property("filter"));
            Assert.NotNull(filter);
            Assert.Equal(
                ["Microsoft.Storage.BlobCreated"],
                filter.Value.GetProperty("includedEventTypes").EnumerateArray().Select(type => type.GetString()!));
            Assert.Equal("/blobServices/default/containers/incoming/", filter.Value.GetProperty("subjectBeginsWith").GetString());
        });
        Assert.DoesNotContain("\"WebHook\"", template.Text, StringComparison.OrdinalIgnoreCase);

        var toQueue = Assert.Single(subscriptions, s => s.Properties.TryGetProperty("deliveryWithResourceIdentity", out _));
        Assert.Equal("StorageQueue", toQueue.Property("deliveryWithResourceIdentity", "destination", "endpointType").GetString());
        Assert.Equal("UserAssigned", toQueue.Property("deliveryWithResourceIdentity", "identity", "type").GetString());
        var toFunction = Assert.Single(subscriptions, s => s.Properties.TryGetProperty("destination", out _));
        Assert.Equal("AzureFunction", toFunction.Property("destination", "endpointType").GetString());
        Assert.Contains("/functions/", toFunction.Property("destination", "properties", "resourceId").GetString(), StringComparison.Ordinal);
        Assert.Equal("StorageQueue", template.Main.ParameterDefault("uploadEventDelivery")?.GetString());
    }

    private ArmResource Queue(string name) =>
        Assert.Single(
            template.Module("servicebus").OfType("Microsoft.ServiceBus/namespaces/queues"),
            queue => queue.Name.Contains($"'{name}'", StringComparison.Ordinal));

    // ARM list functions (listKeys, listSecrets, listConnectionStrings, ...) called anywhere in an expression.
    [GeneratedRegex(@"\blist[A-Za-z]*\s*\(", RegexOptions.IgnoreCase)]
    private static partial Regex ListFunctionCall();
}
