namespace AlexNet.Pipeline.Tests.Fixtures;

/// <summary>
/// On a test class: its <see cref="ContractFactAttribute"/> tests are reported as skipped, with a reason that says
/// what to set, when the variable is empty (for services no machine here can run, such as Service Bus).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class RequiresEnvironmentVariableAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    public bool IsSatisfied => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Name));
}
