using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Orchestrations;

/// <summary>
/// The <see cref="TaskActivityContext"/> a host passes when it calls an activity class itself, as a Functions
/// <c>[ActivityTrigger]</c> wrapper does: the activities of this pipeline read nothing from it but names for logs.
/// </summary>
public sealed class ActivityInvocationContext(string name, string instanceId) : TaskActivityContext
{
    public override TaskName Name { get; } = new(name);

    public override string InstanceId { get; } = instanceId;
}
