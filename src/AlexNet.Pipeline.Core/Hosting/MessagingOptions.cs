using AlexNet.Pipeline.Contracts;
using System.ComponentModel.DataAnnotations;
using AlexNet.Pipeline.Messaging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Hosting;

public enum MessagingBackend
{
    /// <summary>Azure Service Bus queues (section <c>ServiceBus</c>).</summary>
    ServiceBus,

    /// <summary>Azure Storage Queues on the account of section <c>Storage</c> (Azurite locally).</summary>
    StorageQueue,

    /// <summary>In memory, for tests and the single-process pipeline.</summary>
    InProcess,
}

/// <summary>
/// Configuration section <c>Messaging</c>: <c>Messaging:Backend</c> = servicebus | storagequeue | inprocess, plus
/// the delivery settings of <see cref="WorkQueueOptions"/> (<c>Messaging:LockDuration</c>, <c>Messaging:MaxDeliveryCount</c>, ...).
/// </summary>
public sealed class MessagingOptions : WorkQueueOptions
{
    public const string SectionName = "Messaging";

    public MessagingBackend Backend { get; set; } = MessagingBackend.ServiceBus;

    /// <summary>
    /// Queue of label requests: ingest and the LabelBatch orchestration send to it, the worker receives from it. The one
    /// setting for that name in every host (it was Ingest:LabelQueue, Worker:Queue and a constant, which could disagree).
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:LabelQueue must be set (the label request queue, e.g. 'label-requests').")]
    public string LabelQueue { get; set; } = PipelineNames.LabelQueue;

    /// <summary>Queue of train jobs: the Retrain orchestration sends, the worker receives.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:TrainQueue must be set (the train job queue, e.g. 'train-jobs').")]
    public string TrainQueue { get; set; } = PipelineNames.TrainQueue;
}

/// <summary>Checks that the connection settings the chosen backend needs are present, naming the missing ones.</summary>
internal sealed class MessagingOptionsValidator(IOptions<StorageOptions> storage, IOptions<ServiceBusOptions> serviceBus) : IValidateOptions<MessagingOptions>
{
    public ValidateOptionsResult Validate(string? name, MessagingOptions options)
    {
        switch (options.Backend)
        {
            case MessagingBackend.ServiceBus when !serviceBus.Value.HasConnectionString && string.IsNullOrWhiteSpace(serviceBus.Value.FullyQualifiedNamespace):
                return ValidateOptionsResult.Fail(
                    "ServiceBus:ConnectionString or ServiceBus:fullyQualifiedNamespace must be set when Messaging:Backend is 'servicebus'.");
            case MessagingBackend.StorageQueue when !storage.Value.HasConnectionString && storage.Value.QueueServiceUri is null:
                return ValidateOptionsResult.Fail(
                    "Storage:ConnectionString (e.g. 'UseDevelopmentStorage=true' for Azurite) or Storage:queueServiceUri must be set when Messaging:Backend is 'storagequeue'.");
            case MessagingBackend.StorageQueue when options.LockDuration.Ticks % TimeSpan.TicksPerSecond != 0:
                return ValidateOptionsResult.Fail("Messaging:LockDuration must be whole seconds when Messaging:Backend is 'storagequeue' (visibility timeouts are in seconds).");
            default:
                return ValidateOptionsResult.Success;
        }
    }
}
