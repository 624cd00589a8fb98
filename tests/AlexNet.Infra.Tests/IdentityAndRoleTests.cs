using System.Text.RegularExpressions;

namespace AlexNet.Infra.Tests;

/// <summary>Each identity holds exactly the built-in roles its work needs, on the resource it works with.</summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class IdentityAndRoleTests(CompiledTemplate template)
{
    private const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string StorageBlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string StorageQueueDataMessageSender = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string ServiceBusDataSender = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39";
    private const string ServiceBusDataReceiver = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    private const string Storage = "Microsoft.Storage/storageAccounts";
    private const string Container = "Microsoft.Storage/storageAccounts/blobServices/containers";
    private const string UploadQueue = "Microsoft.Storage/storageAccounts/queueServices/queues";
    private const string ServiceBus = "Microsoft.ServiceBus/namespaces";
    private const string Registry = "Microsoft.ContainerRegistry/registries";
    private const string ApplicationInsights = "Microsoft.Insights/components";

    public static TheoryData<string, string[]> ExpectedRoles => new()
    {
        {
            "functionsPrincipalId",
            [
                $"{StorageBlobDataOwner} on {Storage}",
                $"{StorageQueueDataContributor} on {Storage}",
                $"{StorageTableDataContributor} on {Storage}",
                $"{ServiceBusDataSender} on {ServiceBus}",
                $"{MonitoringMetricsPublisher} on {ApplicationInsights}",
            ]
        },
        {
            "workerPrincipalId",
            [
                $"{StorageBlobDataReader} on {Container} incoming",
                $"{StorageBlobDataReader} on {Container} training",
                $"{StorageBlobDataContributor} on {Container} labels",
                $"{StorageBlobDataContributor} on {Container} rejected",
                $"{StorageBlobDataContributor} on {Container} runs",
                $"{StorageBlobDataContributor} on {Container} models",
                $"{ServiceBusDataReceiver} on {ServiceBus}",
                $"{ServiceBusDataSender} on {ServiceBus}",
                $"{AcrPull} on {Registry}",
                $"{MonitoringMetricsPublisher} on {ApplicationInsights}",
            ]
        },
        {
            "eventsPrincipalId",
            [
                $"{StorageQueueDataMessageSender} on {UploadQueue}",
            ]
        },
        {
            "deployerPrincipalId",
            [
                $"{StorageBlobDataContributor} on {Container} incoming",
                $"{StorageBlobDataContributor} on {Container} training",
                $"{ServiceBusDataSender} on {ServiceBus}",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ExpectedRoles))]
    public void IdentityHoldsExactlyItsRoles(string principalParameter, string[] expected)
    {
        var actual = RoleAssignments()
            .Where(assignment => assignment.Principal == $"[parameters('{principalParameter}')]")
            .Select(assignment => $"{assignment.Role} on {assignment.ScopeType}{(assignment.ScopeName is { } name ? " " + name : "")}")
            .Order(StringComparer.Ordinal);

        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);
    }

    [Fact]
    public void OnlyTheControlPlaneHoldsABlobRoleOnTheWholeStorageAccount()
    {
        // The worker decodes untrusted images with native codecs: nothing of it may reach function-packages (the code
        // the Function App runs), the task hub or other containers.
        var accountWide = RoleAssignments()
            .Where(assignment => assignment.ScopeType == Storage)
            .Select(assignment => assignment.Principal)
            .Distinct();

        Assert.Equal(["[parameters('functionsPrincipalId')]"], accountWide);
    }

    [Fact]
    public void EveryContainerScopedRoleNamesADataContainerOfTheStorageModule()
    {
        var containers = template.Module("storage").Json.GetProperty("variables").GetProperty("dataContainerNames")
            .EnumerateArray().Select(name => name.GetString()).ToHashSet();
        var scoped = RoleAssignments().Where(assignment => assignment.ScopeType == Container).ToList();

        Assert.NotEmpty(scoped);
        Assert.All(scoped, assignment => Assert.Contains(assignment.ScopeName, containers));
    }

    [Fact]
    public void TheWorkerCannotWriteOrDeleteThePointerToThePromotedModel()
    {
        var models = template.AllTemplates
            .SelectMany(t => t.OfType("Microsoft.Authorization/roleAssignments"))
            .Single(assignment => assignment.Property("principalId").GetString() == "[parameters('workerPrincipalId')]"
                && assignment.Json.GetProperty("scope").GetString()!.EndsWith("'models')]", StringComparison.Ordinal));

        string condition = models.Template.EvaluateString(models.Property("condition"))!;
        Assert.Equal("2.0", models.Property("conditionVersion").GetString());
        foreach (string action in new[] { "write", "add/action", "delete", "move/action" })
            Assert.Contains($"!(ActionMatches{{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/{action}'}})", condition, StringComparison.Ordinal);
        Assert.Contains("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringNotEquals 'current.json'", condition, StringComparison.Ordinal);
        Assert.DoesNotContain("blobs/read", condition, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryRoleAssignmentUsesABuiltInRoleByGuidAndNoBroadRole()
    {
        string[] broad =
        [
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
            "b24988ac-6180-42a0-ab88-20f7382dd24c", // Contributor
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
            "090c5cfd-751d-490a-894a-3ce6f1109419", // Azure Service Bus Data Owner
            "17d1049b-9a84-46fb-8f53-869881c3d3ab", // Storage Account Contributor
        ];
        var assignments = RoleAssignments().ToList();

        Assert.True(assignments.Count >= 11, $"expected the role assignments of access.bicep, found {assignments.Count}");
        Assert.All(assignments, assignment =>
        {
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", assignment.Role);
            Assert.DoesNotContain(assignment.Role, broad);
        });
    }

    [Fact]
    public void EachHostRunsAsItsOwnUserAssignedIdentityAndRolesGoToThatIdentity()
    {
        var identities = template.Module("identities");
        var outputs = identities.Json.GetProperty("outputs");
        Assert.Contains("parameters('functionsIdentityName')", outputs.GetProperty("functionsIdentityId").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Contains("parameters('functionsIdentityName')", outputs.GetProperty("functionsIdentityPrincipalId").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Contains("parameters('workerIdentityName')", outputs.GetProperty("workerIdentityId").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Contains("parameters('workerIdentityName')", outputs.GetProperty("workerIdentityPrincipalId").GetProperty("value").GetString(), StringComparison.Ordinal);

        Assert.Contains("outputs.functionsIdentityPrincipalId", template.ModuleParameter("access", "functionsPrincipalId"), StringComparison.Ordinal);
        Assert.Contains("outputs.workerIdentityPrincipalId", template.ModuleParameter("access", "workerPrincipalId"), StringComparison.Ordinal);
        Assert.Contains("outputs.eventsIdentityPrincipalId", template.ModuleParameter("access", "eventsPrincipalId"), StringComparison.Ordinal);
        Assert.Contains("outputs.functionsIdentityId", template.ModuleParameter("functions", "identityId"), StringComparison.Ordinal);
        Assert.Contains("outputs.functionsIdentityClientId", template.ModuleParameter("functions", "identityClientId"), StringComparison.Ordinal);
        Assert.Contains("outputs.workerIdentityId", template.ModuleParameter("worker", "identityId"), StringComparison.Ordinal);
        Assert.Contains("outputs.workerIdentityClientId", template.ModuleParameter("worker", "identityClientId"), StringComparison.Ordinal);

        var functionApp = template.Module("functions").Single("Microsoft.Web/sites");
        var workerApp = template.Module("worker").Single("Microsoft.App/containerApps");
        Assert.Equal("UserAssigned", functionApp.Json.GetProperty("identity").GetProperty("type").GetString());
        Assert.Equal("UserAssigned", workerApp.Json.GetProperty("identity").GetProperty("type").GetString());
    }

    private IEnumerable<(string Principal, string Role, string ScopeType, string? ScopeName)> RoleAssignments() =>
        template.AllTemplates
            .SelectMany(t => t.OfType("Microsoft.Authorization/roleAssignments"))
            .Select(assignment =>
            {
                var roleDefinition = assignment.Template.ExpandVariableMembers(assignment.Property("roleDefinitionId").GetString()!);
                var role = Regex.Match(roleDefinition, "'([0-9a-fA-F-]{36})'").Groups[1].Value;
                var scope = assignment.Json.GetProperty("scope").GetString()!;
                var scopeType = Regex.Match(scope, @"resourceId\('([^']+)'").Groups[1].Value;
                // A container is named by the last literal of its resourceId: ..., 'default', 'incoming')
                string? scopeName = scopeType == Container ? Regex.Match(scope, @"'([^']+)'\)\]$").Groups[1].Value : null;
                return (assignment.Property("principalId").GetString()!, role, scopeType, scopeName);
            });
}
