using System.Text.Json;

namespace AlexNet.Infra.Tests;

/// <summary>The Function App and the worker are configured the way the code and the platform expect.</summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class HostConfigurationTests(CompiledTemplate template)
{
    private static readonly string[] IdentitySettings =
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "Storage__blobServiceUri",
        "Storage__queueServiceUri",
        "Storage__credential",
        "Storage__clientId",
        "ServiceBus__fullyQualifiedNamespace",
        "ServiceBus__credential",
        "ServiceBus__clientId",
        "AZURE_CLIENT_ID",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    ];

    [Fact]
    public void FunctionAppSettingsAreIdentityBasedOnly()
    {
        var functions = template.Module("functions");
        var settings = Settings(functions.Single("Microsoft.Web/sites").Property("siteConfig", "appSettings"));

        Assert.All(IdentitySettings, name => Assert.Contains(name, settings.Keys));
        AssertIdentityBased(settings);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.Equal("[parameters('identityClientId')]", settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("[parameters('identityClientId')]", settings["AZURE_CLIENT_ID"]);
        Assert.StartsWith("[format('Authorization=AAD;ClientId={0}'", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionAppHasTheTimerSchedulesItsTriggersNeedToIndex()
    {
        var functions = template.Module("functions");
        var settings = Settings(functions.Single("Microsoft.Web/sites").Property("siteConfig", "appSettings"));

        Assert.Equal("[parameters('ingestSweepSchedule')]", settings["IngestSweepSchedule"]);
        Assert.Equal("[parameters('retrainSchedule')]", settings["RetrainSchedule"]);
        Assert.Contains("Retrain__Dataset", settings.Keys);
        // 17 MiB: the 16 MiB of an import body and its framing; the host's default (100 MB) buffered far more than any route reads.
        Assert.Equal("17825792", settings["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"]);
        Assert.Equal("servicebus", settings["Messaging__Backend"]);
        // The same setting names the queues in both hosts, so the sender and the receiver cannot disagree.
        Assert.Equal("[parameters('labelQueueName')]", settings["Messaging__LabelQueue"]);
        Assert.Equal("[parameters('trainQueueName')]", settings["Messaging__TrainQueue"]);
        Assert.Contains("outputs.labelRequestsQueueName", template.ModuleParameter("functions", "labelQueueName"), StringComparison.Ordinal);
        Assert.Contains("outputs.trainJobsQueueName", template.ModuleParameter("functions", "trainQueueName"), StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionAppRunsDotnetIsolatedOnFlexConsumption()
    {
        var functions = template.Module("functions");
        var plan = functions.Single("Microsoft.Web/serverfarms");
        var site = functions.Single("Microsoft.Web/sites");

        Assert.Equal("FC1", plan.Json.GetProperty("sku").GetProperty("name").GetString());
        Assert.Equal("FlexConsumption", plan.Json.GetProperty("sku").GetProperty("tier").GetString());
        Assert.Equal("dotnet-isolated", site.Property("functionAppConfig", "runtime", "name").GetString());
        Assert.Equal("10.0", functions.EvaluateString(site.Property("functionAppConfig", "runtime", "version")));
        Assert.Equal("UserAssignedIdentity", site.Property("functionAppConfig", "deployment", "storage", "authentication", "type").GetString());
        Assert.True(site.Property("httpsOnly").GetBoolean());
        Assert.Equal("UserAssigned", site.Json.GetProperty("identity").GetProperty("type").GetString());
        Assert.All(
            functions.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"),
            policy => Assert.False(policy.Property("allow").GetBoolean()));
    }

    [Fact]
    public void WorkerEnvironmentIsIdentityBasedAndNamesItsQueues()
    {
        var worker = template.Module("worker");
        var container = Assert.Single(worker.Single("Microsoft.App/containerApps").Property("template", "containers").EnumerateArray());
        var env = Settings(container.GetProperty("env"));

        Assert.All(IdentitySettings.Where(name => !name.StartsWith("AzureWebJobs", StringComparison.Ordinal)), name => Assert.Contains(name, env.Keys));
        AssertIdentityBased(env);
        Assert.Contains("labelQueueName", env["Messaging__LabelQueue"], StringComparison.Ordinal);
        Assert.Contains("trainQueueName", env["Messaging__TrainQueue"], StringComparison.Ordinal);
        Assert.Equal("auto", env["Worker__Device"]);
        Assert.Equal(256, worker.Evaluate(JsonSerializer.SerializeToElement(env["Worker__BatchSize"]))?.GetInt32());
        Assert.Contains("outputs.labelRequestsQueueName", template.ModuleParameter("worker", "labelQueueName"), StringComparison.Ordinal);
        Assert.Contains("outputs.trainJobsQueueName", template.ModuleParameter("worker", "trainQueueName"), StringComparison.Ordinal);
    }

    [Fact]
    public void WorkerScalesFromZeroOnLabelRequestsThroughItsIdentity()
    {
        var worker = template.Module("worker");
        var app = worker.Single("Microsoft.App/containerApps");
        var scale = app.Property("template", "scale");
        var rules = scale.GetProperty("rules").EnumerateArray().Select(rule => rule.GetProperty("custom")).ToList();

        Assert.Equal(0, scale.GetProperty("minReplicas").GetInt32());
        Assert.NotEmpty(rules);
        Assert.All(rules, rule =>
        {
            Assert.Equal("azure-servicebus", rule.GetProperty("type").GetString());
            Assert.Equal("[parameters('identityId')]", rule.GetProperty("identity").GetString());
            Assert.Equal("[parameters('serviceBusNamespaceName')]", rule.GetProperty("metadata").GetProperty("namespace").GetString());
            Assert.False(rule.TryGetProperty("auth", out _), "a scale rule with auth uses a secret");
        });
        Assert.Contains(rules, rule => rule.GetProperty("metadata").GetProperty("queueName").GetString() == "[parameters('labelQueueName')]");
    }

    [Fact]
    public void WorkerRunsOnTheGpuProfileAndPullsWithItsIdentity()
    {
        var worker = template.Module("worker");
        var app = worker.Single("Microsoft.App/containerApps");
        var environment = worker.Single("Microsoft.App/managedEnvironments");

        Assert.Equal("Consumption-GPU-NC8as-T4", worker.ParameterDefault("gpuProfileType")?.GetString());
        var allowed = worker.Json.GetProperty("parameters").GetProperty("gpuProfileType").GetProperty("allowedValues")
            .EnumerateArray().Select(value => value.GetString()!).ToList();
        Assert.Contains(allowed, profile => profile.Contains("A100", StringComparison.Ordinal));
        var profileName = worker.EvaluateString(app.Property("workloadProfileName"));
        Assert.Equal("gpu", profileName);
        Assert.Contains("workloadProfiles", environment.Properties.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("azure-monitor", environment.Property("appLogsConfiguration", "destination").GetString());

        var registry = Assert.Single(app.Property("configuration", "registries").EnumerateArray());
        Assert.Equal("[parameters('identityId')]", registry.GetProperty("identity").GetString());
        Assert.False(registry.TryGetProperty("passwordSecretRef", out _));
        Assert.False(app.Property("configuration").TryGetProperty("secrets", out _));
    }

    [Fact]
    public void WorkerProbesLiveAndReadyEndpointsOnPort8080()
    {
        var worker = template.Module("worker");
        var container = Assert.Single(worker.Single("Microsoft.App/containerApps").Property("template", "containers").EnumerateArray());
        var probes = container.GetProperty("probes").EnumerateArray()
            .Select(probe => (
                Type: probe.GetProperty("type").GetString()!,
                Path: probe.GetProperty("httpGet").GetProperty("path").GetString()!,
                Port: worker.Evaluate(probe.GetProperty("httpGet").GetProperty("port"))?.GetInt32()))
            .ToList();

        Assert.Contains(("Liveness", "/health/live", (int?)8080), probes);
        Assert.Contains(("Readiness", "/health/ready", (int?)8080), probes);
    }

    [Fact]
    public void AzdFindsTheEnvironmentAndBothServicesByTag()
    {
        var resourceGroup = template.Main.Single("Microsoft.Resources/resourceGroups");
        Assert.Equal("[parameters('environmentName')]", template.Main.Evaluate(resourceGroup.Json.GetProperty("tags"))?.GetProperty("azd-env-name").GetString());

        var site = template.Module("functions").Single("Microsoft.Web/sites");
        var app = template.Module("worker").Single("Microsoft.App/containerApps");
        Assert.Contains("createObject('azd-service-name', 'functions')", site.Json.GetProperty("tags").GetString(), StringComparison.Ordinal);
        Assert.Contains("createObject('azd-service-name', 'worker')", app.Json.GetProperty("tags").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MainOutputsFollowAzdNaming()
    {
        var outputs = template.Main.Json.GetProperty("outputs").EnumerateObject().Select(output => output.Name).ToList();

        Assert.All(outputs, name => Assert.StartsWith("AZURE_", name, StringComparison.Ordinal));
        Assert.Superset(
            new HashSet<string>(StringComparer.Ordinal)
            {
                "AZURE_STORAGE_BLOB_ENDPOINT",
                "AZURE_SERVICEBUS_NAMESPACE",
                "AZURE_FUNCTION_APP_NAME",
                "AZURE_CONTAINER_REGISTRY_ENDPOINT",
                "AZURE_CONTAINER_APP_WORKER_NAME",
                "AZURE_RESOURCE_GROUP",
                "AZURE_LOCATION",
            },
            outputs.ToHashSet(StringComparer.Ordinal));
    }

    private static Dictionary<string, string> Settings(JsonElement nameValuePairs) =>
        nameValuePairs.EnumerateArray().ToDictionary(
            pair => pair.GetProperty("name").GetString()!,
            pair => pair.TryGetProperty("value", out var value) ? value.ToString() : "secretRef",
            StringComparer.Ordinal);

    private static void AssertIdentityBased(Dictionary<string, string> settings)
    {
        Assert.All(
            settings.Where(setting => setting.Key.EndsWith("__credential", StringComparison.Ordinal)),
            setting => Assert.Equal("managedidentity", setting.Value));
        Assert.All(settings, setting =>
        {
            Assert.DoesNotContain("AccountKey=", setting.Value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessKey=", setting.Value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("secretRef", setting.Value, StringComparison.OrdinalIgnoreCase);
        });
        Assert.DoesNotContain(settings.Keys, name =>
            name.EndsWith("ConnectionString", StringComparison.OrdinalIgnoreCase) ||
            (name.Contains("CONNECTION_STRING", StringComparison.Ordinal) && name != "APPLICATIONINSIGHTS_CONNECTION_STRING"));
    }
}
