using AlexNet.Pipeline.Messaging;
using AlexNet.Pipeline.Storage;
using Azure.Core;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Hosting;

/// <summary>
/// Registers the storage and messaging ports with the adapters that configuration chooses. Azure clients are
/// registered once through <c>AddAzureClients</c>, built lazily from the validated options (so a backend that is
/// not chosen never needs its settings), and retry through the SDK's own exponential retry policy.
/// </summary>
public static class AzureClientsExtensions
{
    /// <summary>
    /// Adds <see cref="IBlobStore"/>: <see cref="AzureBlobStore"/> when <c>Storage:Backend</c> is <c>azure</c> (the
    /// default), <see cref="LocalFolderBlobStore"/> on <c>Storage:LocalRoot</c> when it is <c>local</c>.
    /// </summary>
    public static IHostApplicationBuilder AddPipelineStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(IBlobStore)))
        {
            return builder;
        }

        BindStorageOptions(services);
        services.AddOptions<StorageOptions>()
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();

        services.AddAzureClients(clients =>
            clients.AddClient<BlobServiceClient, BlobClientOptions>((clientOptions, credential, provider) =>
            {
                var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
                ApplyRetry(clientOptions, storage);
                return storage.HasConnectionString
                    ? new BlobServiceClient(storage.ConnectionString, clientOptions)
                    : new BlobServiceClient(storage.BlobServiceUri, credential, clientOptions);
            })
            .WithCredential(provider => Credential(provider.GetRequiredService<IOptions<StorageOptions>>().Value.ClientId)));

        services.AddSingleton<IBlobStore>(provider =>
        {
            var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
            return storage.Backend switch
            {
                StorageBackend.Local => new LocalFolderBlobStore(storage.LocalRoot!),
                _ => new AzureBlobStore(provider.GetRequiredService<BlobServiceClient>(), provider.GetRequiredService<ILogger<AzureBlobStore>>()),
            };
        });
        return builder;
    }

    /// <summary>
    /// Adds <see cref="IWorkQueueFactory"/> for <c>Messaging:Backend</c>: <c>servicebus</c> (the default; section
    /// <c>ServiceBus</c>), <c>storagequeue</c> (the account of section <c>Storage</c>) or <c>inprocess</c>.
    /// </summary>
    public static IHostApplicationBuilder AddPipelineMessaging(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        // Bound even when the host brings its own queue factory: the queue names (Messaging:LabelQueue, TrainQueue) are read
        // by every sender and receiver whatever carries the messages.
        services.AddOptions<MessagingOptions>()
            .BindConfiguration(MessagingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (services.Any(d => d.ServiceType == typeof(IWorkQueueFactory)))
        {
            return builder;
        }

        // Storage queues use the storage account's settings; MessagingOptionsValidator checks the ones they need.
        BindStorageOptions(services);
        services.AddOptions<ServiceBusOptions>()
            .BindConfiguration(ServiceBusOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddAzureClients(clients =>
        {
            clients.AddClient<QueueServiceClient, QueueClientOptions>((clientOptions, credential, provider) =>
            {
                var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
                ApplyRetry(clientOptions, storage);

                // Base64 is what the Functions queue trigger reads and writes, so both sides understand each other.
                clientOptions.MessageEncoding = QueueMessageEncoding.Base64;
                return storage.HasConnectionString
                    ? new QueueServiceClient(storage.ConnectionString, clientOptions)
                    : new QueueServiceClient(storage.QueueServiceUri, credential, clientOptions);
            })
            .WithCredential(provider => Credential(provider.GetRequiredService<IOptions<StorageOptions>>().Value.ClientId));

            clients.AddClient<ServiceBusClient, ServiceBusClientOptions>((clientOptions, credential, provider) =>
            {
                var serviceBus = provider.GetRequiredService<IOptions<ServiceBusOptions>>().Value;
                clientOptions.RetryOptions = new ServiceBusRetryOptions
                {
                    Mode = ServiceBusRetryMode.Exponential,
                    MaxRetries = serviceBus.MaxRetries,
                    TryTimeout = serviceBus.TryTimeout,
                };
                return serviceBus.HasConnectionString
                    ? new ServiceBusClient(serviceBus.ConnectionString, clientOptions)
                    : new ServiceBusClient(serviceBus.FullyQualifiedNamespace, credential, clientOptions);
            })
            .WithCredential(provider => Credential(provider.GetRequiredService<IOptions<ServiceBusOptions>>().Value.ClientId));
        });

        services.AddSingleton<IWorkQueueFactory>(provider =>
        {
            var messaging = provider.GetRequiredService<IOptions<MessagingOptions>>().Value;
            return messaging.Backend switch
            {
                MessagingBackend.InProcess => new InProcessWorkQueueFactory(messaging, provider.GetRequiredService<TimeProvider>()),
                MessagingBackend.StorageQueue => new StorageWorkQueueFactory(
                    provider.GetRequiredService<QueueServiceClient>(),
                    messaging,
                    provider.GetRequiredService<TimeProvider>(),
                    provider.GetRequiredService<ILogger<StorageWorkQueue>>()),
                _ => new ServiceBusWorkQueueFactory(provider.GetRequiredService<ServiceBusClient>(), messaging),
            };
        });
        return builder;
    }

    private static void BindStorageOptions(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(StorageOptionsBinding)))
        {
            return;
        }

        services.AddSingleton<StorageOptionsBinding>();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName);
    }

    private static void ApplyRetry(ClientOptions clientOptions, StorageOptions storage)
    {
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = storage.MaxRetries;
        clientOptions.Retry.NetworkTimeout = storage.NetworkTimeout;
    }

    // Deployed apps use identity, never keys: a user-assigned identity when its client id is configured.
    private static TokenCredential Credential(string? clientId) =>
        string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));

    /// <summary>Marks the Storage section as bound, since both AddPipelineStorage and AddPipelineMessaging read it.</summary>
    private sealed class StorageOptionsBinding;
}
