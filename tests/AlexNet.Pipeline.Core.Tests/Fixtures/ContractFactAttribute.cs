using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AlexNet.Pipeline.Tests.Fixtures;

/// <summary>
/// A fact of a contract suite: it runs once per backend subclass, and is skipped (with the reason) for a
/// subclass whose <see cref="RequiresEnvironmentVariableAttribute"/> is not met.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
[XunitTestCaseDiscoverer("AlexNet.Pipeline.Tests.Fixtures.ContractFactDiscoverer", "AlexNet.Pipeline.Core.Tests")]
public sealed class ContractFactAttribute : FactAttribute;

public sealed class ContractFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var requirement = testMethod.TestClass.Class.ToRuntimeType()?.GetCustomAttribute<RequiresEnvironmentVariableAttribute>(inherit: true);
        if (requirement is { IsSatisfied: false })
        {
            return [new SkippedTestCase(diagnosticMessageSink, display, displayOptions, testMethod, $"{requirement.Name} is not set")];
        }

        return [new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod)];
    }
}

/// <summary>A test case that reports itself skipped with a reason decided at discovery.</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    private string reason = string.Empty;

    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    public SkippedTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod testMethod, string reason)
        : base(sink, display, displayOptions, testMethod)
    {
        this.reason = reason;
    }

    public override void Serialize(IXunitSerializationInfo data)
    {
        data.AddValue("SkipReason", reason);
        base.Serialize(data);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        reason = data.GetValue<string>("SkipReason");
        base.Deserialize(data);
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => reason;
}
