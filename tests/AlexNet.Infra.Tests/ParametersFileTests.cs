using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlexNet.Infra.Tests;

/// <summary>infra/main.parameters.json is what azd feeds main.bicep: every name must match a parameter.</summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class ParametersFileTests(CompiledTemplate template)
{
    private static readonly JsonElement File = JsonDocument.Parse(
        System.IO.File.ReadAllText(RepositoryRoot.Combine("infra", "main.parameters.json"))).RootElement.GetProperty("parameters");

    [Fact]
    public void EveryParameterInTheFileExistsInMainBicep()
    {
        var declared = template.Main.Json.GetProperty("parameters").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

        Assert.All(File.EnumerateObject(), parameter => Assert.Contains(parameter.Name, declared));
    }

    [Fact]
    public void EveryRequiredParameterOfMainBicepIsInTheFile()
    {
        var required = template.Main.Json.GetProperty("parameters").EnumerateObject()
            .Where(parameter => !parameter.Value.TryGetProperty("defaultValue", out _))
            .Select(parameter => parameter.Name)
            .ToList();

        Assert.Contains("environmentName", required);
        Assert.All(required, name => Assert.True(File.TryGetProperty(name, out _), $"{name} has no default and is missing from main.parameters.json"));
    }

    [Fact]
    public void ValuesComeFromTheAzdEnvironment()
    {
        Assert.Equal("${AZURE_ENV_NAME}", File.GetProperty("environmentName").GetProperty("value").GetString());
        Assert.Equal("${AZURE_LOCATION}", File.GetProperty("location").GetProperty("value").GetString());
        Assert.All(File.EnumerateObject(), parameter =>
            Assert.Matches(Substitution(), parameter.Value.GetProperty("value").GetString()!));
    }

    [Fact]
    public void DefaultsInTheFileAreValuesMainBicepAllows()
    {
        var declared = template.Main.Json.GetProperty("parameters");
        Assert.All(File.EnumerateObject(), parameter =>
        {
            var match = Substitution().Match(parameter.Value.GetProperty("value").GetString()!);
            if (!match.Groups["default"].Success || !declared.GetProperty(parameter.Name).TryGetProperty("allowedValues", out var allowed))
            {
                return;
            }

            Assert.Contains(match.Groups["default"].Value, allowed.EnumerateArray().Select(value => value.ToString()));
        });
    }

    // azd's substitution: ${NAME} or ${NAME=default}.
    [GeneratedRegex(@"^\$\{(?<name>[A-Z][A-Z0-9_]*)(=(?<default>[^}]*))?\}$")]
    private static partial Regex Substitution();
}
