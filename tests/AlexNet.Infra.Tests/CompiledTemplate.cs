using System.Text.Json;

namespace AlexNet.Infra.Tests;

/// <summary>infra/main.bicep compiled once by <c>bicep build --stdout</c> and shared by every test class.</summary>
public sealed class CompiledTemplate : IAsyncLifetime
{
    public const string MainFile = "infra/main.bicep";

    private JsonDocument? document;
    private Dictionary<string, ArmTemplate> modules = [];
    private List<ArmTemplate> nested = [];

    internal BicepRun Build { get; private set; } = new(-1, string.Empty, string.Empty);

    public ArmTemplate Main { get; private set; } = null!;

    /// <summary>The compiled JSON as text, for whole-template scans.</summary>
    public string Text { get; private set; } = string.Empty;

    /// <summary>main.bicep and every nested deployment at any depth.</summary>
    public IEnumerable<ArmTemplate> AllTemplates => nested.Prepend(Main);

    public IEnumerable<ArmResource> AllResources => AllTemplates.SelectMany(template => template.Resources);

    public ArmTemplate Module(string deploymentName) =>
        modules.TryGetValue(deploymentName, out var module)
            ? module
            : throw new KeyNotFoundException($"main.bicep has no module deployment named '{deploymentName}'.");

    /// <summary>The expression main.bicep passes to a module parameter.</summary>
    public string ModuleParameter(string deploymentName, string parameterName)
    {
        var deployment = Main.OfType("Microsoft.Resources/deployments").Single(resource => resource.Name == deploymentName);
        return deployment.Property("parameters", parameterName, "value").ToString();
    }

    public async Task InitializeAsync()
    {
        Build = await BicepCli.RunAsync("build", MainFile, "--stdout");
        Assert.True(Build.ExitCode == 0, $"bicep build failed: {Build.Describe()}");

        Text = Build.StandardOutput;
        document = JsonDocument.Parse(Text);
        Main = new ArmTemplate("main", document.RootElement);
        modules = InlineTemplates(Main).ToDictionary(module => module.Name);
        nested = [.. Descendants(Main)];
    }

    private static IEnumerable<ArmTemplate> InlineTemplates(ArmTemplate parent) =>
        parent.OfType("Microsoft.Resources/deployments")
            .Where(deployment => deployment.Properties.TryGetProperty("template", out _))
            .Select(deployment => new ArmTemplate(deployment.Name, deployment.Property("template")));

    private static IEnumerable<ArmTemplate> Descendants(ArmTemplate parent) =>
        InlineTemplates(parent).SelectMany(child => Descendants(child).Prepend(child));

    public Task DisposeAsync()
    {
        document?.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class CompiledTemplateCollection : ICollectionFixture<CompiledTemplate>
{
    public const string Name = "compiled main.bicep";
}
