using System.Text.Json;
using System.Text.RegularExpressions;

namespace AlexNet.Infra.Tests;

/// <summary>
/// One template of the compiled ARM JSON: main.bicep itself, or a module inlined as a nested deployment.
/// ARM expressions stay unevaluated; the few forms the tests need (a variable, a parameter's default) are
/// looked up in the template they belong to.
/// </summary>
public sealed partial class ArmTemplate(string name, JsonElement json)
{
    public string Name { get; } = name;

    public JsonElement Json { get; } = json;

    /// <summary>The resources the template deploys (references to existing ones left out).</summary>
    public IEnumerable<ArmResource> Resources => (Json.GetProperty("resources") switch
    {
        { ValueKind: JsonValueKind.Array } array => array.EnumerateArray(),
        // languageVersion 2.0 templates keep resources in an object keyed by symbolic name.
        var symbolic => symbolic.EnumerateObject().Select(resource => resource.Value),
    })
        .Where(resource => !(resource.TryGetProperty("existing", out var existing) && existing.ValueKind == JsonValueKind.True))
        .Select(resource => new ArmResource(this, resource));

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(resource => string.Equals(resource.Type, type, StringComparison.OrdinalIgnoreCase));

    public ArmResource Single(string type) => Assert.Single(OfType(type));

    /// <summary>The value an expression names when it is a literal, a variable or a parameter with a default.</summary>
    public JsonElement? Evaluate(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }

        var text = value.GetString()!;
        if (VariableExpression().Match(text) is { Success: true } variable)
        {
            return Json.GetProperty("variables").GetProperty(variable.Groups["name"].Value);
        }

        if (ParameterExpression().Match(text) is { Success: true } parameter)
        {
            return ParameterDefault(parameter.Groups["name"].Value);
        }

        return text.StartsWith('[') && !text.StartsWith("[[", StringComparison.Ordinal) ? null : value;
    }

    public JsonElement? ParameterDefault(string parameterName) =>
        Json.GetProperty("parameters").GetProperty(parameterName).TryGetProperty("defaultValue", out var value) ? value : null;

    public string? EvaluateString(JsonElement value) =>
        Evaluate(value) is { ValueKind: JsonValueKind.String } resolved ? resolved.GetString() : null;

    /// <summary>An expression with every <c>variables('x').y</c> string member written out as a literal.</summary>
    public string ExpandVariableMembers(string expression) =>
        VariableMember().Replace(expression, match =>
            Json.GetProperty("variables").GetProperty(match.Groups["name"].Value)
                .TryGetProperty(match.Groups["member"].Value, out var member) && member.ValueKind == JsonValueKind.String
                ? $"'{member.GetString()}'"
                : match.Value);

    [GeneratedRegex(@"^\[variables\('(?<name>[^']+)'\)\]$")]
    private static partial Regex VariableExpression();

    [GeneratedRegex(@"^\[(string\()?parameters\('(?<name>[^']+)'\)\)?\]$")]
    private static partial Regex ParameterExpression();

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)\.(?<member>\w+)")]
    private static partial Regex VariableMember();
}

/// <summary>A resource declaration inside an <see cref="ArmTemplate"/>.</summary>
public sealed class ArmResource(ArmTemplate template, JsonElement json)
{
    public ArmTemplate Template { get; } = template;

    public JsonElement Json { get; } = json;

    public string Type => Json.GetProperty("type").GetString()!;

    public string Name => Json.GetProperty("name").GetString()!;

    public JsonElement Properties => Json.GetProperty("properties");

    public JsonElement Property(params string[] path)
    {
        var element = Properties;
        foreach (var segment in path)
        {
            Assert.True(
                element.ValueKind == JsonValueKind.Object && element.TryGetProperty(segment, out element),
                $"{Type} {Name} has no properties.{string.Join('.', path)}");
        }

        return element;
    }

    public override string ToString() => $"{Type} {Name} (in {Template.Name})";
}
