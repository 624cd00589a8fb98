using Microsoft.DurableTask;

namespace AlexNet.Pipeline.Functions.Durable;

/// <summary>What an activity class learns about its invocation when a Functions activity trigger runs it.</summary>
internal sealed class FunctionActivityContext(TaskName name, string instanceId) : TaskActivityContext
{
    public override TaskName Name => name;

    public override string InstanceId => instanceId;
}
