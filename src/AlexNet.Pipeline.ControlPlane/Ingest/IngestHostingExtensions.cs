using AlexNet.Imaging;
using AlexNet.Pipeline.Hosting;
using AlexNet.Pipeline.Metering;
using AlexNet.Pipeline.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Ingest;

public static class IngestHostingExtensions
{
    /// <summary>Configuration section of the header limits an upload is checked against (<see cref="ImageLimits"/>).</summary>
    public const string ImageLimitsSection = nameof(ImageLimits);

    /// <summary>
    /// Adds <see cref="UploadIngestor"/> and <see cref="IngestSweeper"/> (section <c>Ingest</c>), with the storage and
    /// messaging they use. Azure storage is read with ranged downloads; the local folder backend whole.
    /// </summary>
    public static IHostApplicationBuilder AddPipelineIngest(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPipelineStorage();
        builder.AddPipelineMessaging();
        var services = builder.Services;
        services.AddOptions<IngestOptions>()
            .BindConfiguration(IngestOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => new ImageDecoder(builder.Configuration.GetSection(ImageLimitsSection).Get<ImageLimits>() ?? ImageLimits.Default));
        services.TryAddSingleton<IBlobHeadReader>(provider =>
            provider.GetRequiredService<IOptions<StorageOptions>>().Value.Backend == StorageBackend.Azure
                ? new AzureBlobHeadReader(provider.GetRequiredService<BlobServiceClient>(), provider.GetService<RequestCounter>())
                : new StoreBlobHeadReader(provider.GetRequiredService<IBlobStore>()));
        services.TryAddSingleton<UploadIngestor>();
        services.TryAddSingleton<IngestSweeper>();
        return builder;
    }
}
