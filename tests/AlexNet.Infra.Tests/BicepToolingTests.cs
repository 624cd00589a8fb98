using System.Text.RegularExpressions;

namespace AlexNet.Infra.Tests;

[Collection(CompiledTemplateCollection.Name)]
public sealed partial class BicepToolingTests(CompiledTemplate template)
{
    [Fact]
    public void BicepBuildReportsNoErrorsOrWarnings()
    {
        Assert.True(template.Build.Diagnostics.Count == 0, $"bicep build {CompiledTemplate.MainFile}: {template.Build.Describe()}");
    }

    [Fact]
    public async Task BicepLintReportsNoFindings()
    {
        var lint = await BicepCli.RunAsync("lint", CompiledTemplate.MainFile);

        Assert.True(lint.ExitCode == 0 && lint.Diagnostics.Count == 0, $"bicep lint {CompiledTemplate.MainFile}: {lint.Describe()}");
    }

    [Fact]
    public void EveryModuleReferenceIsALocalFileThatExists()
    {
        var infra = RepositoryRoot.Combine("infra");
        var references = Directory.EnumerateFiles(infra, "*.bicep", SearchOption.AllDirectories)
            .SelectMany(file => ModuleReference().Matches(File.ReadAllText(file))
                .Select(match => (File: file, Path: match.Groups["path"].Value)))
            .ToList();

        Assert.NotEmpty(references);
        Assert.All(references, reference =>
        {
            Assert.False(
                RegistryReference().IsMatch(reference.Path),
                $"{reference.File} uses a registry or template-spec module '{reference.Path}', which cannot be restored offline.");
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(reference.File)!, reference.Path));
            Assert.True(File.Exists(resolved), $"{reference.File}: module '{reference.Path}' does not exist.");
            Assert.StartsWith(infra, resolved, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void EveryNestedDeploymentIsInlinedNotLinked()
    {
        var deployments = template.AllTemplates.SelectMany(t => t.OfType("Microsoft.Resources/deployments")).ToList();

        Assert.True(deployments.Count >= 8, $"expected the modules of main.bicep as nested deployments, found {deployments.Count}");
        Assert.All(deployments, deployment =>
        {
            Assert.True(deployment.Properties.TryGetProperty("template", out _), $"{deployment} has no inline template");
            Assert.False(deployment.Properties.TryGetProperty("templateLink", out _), $"{deployment} links a remote template");
        });
    }

    [GeneratedRegex(@"^\s*module\s+\w+\s+'(?<path>[^']+)'", RegexOptions.Multiline)]
    private static partial Regex ModuleReference();

    [GeneratedRegex(@"^(br|ts)[:/]", RegexOptions.IgnoreCase)]
    private static partial Regex RegistryReference();
}
