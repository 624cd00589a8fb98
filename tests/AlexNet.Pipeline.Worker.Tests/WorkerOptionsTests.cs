using AlexNet.Model.Inference;
using Microsoft.Extensions.DependencyInjection;
using AlexNet.Pipeline.Storage;
using AlexNet.Pipeline.Worker.Tests.Fixtures;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AlexNet.Pipeline.Worker.Tests;

/// <summary>A bad Worker setting stops the host as it starts, with a message that names the setting.</summary>
public sealed class WorkerOptionsTests
{
    [Theory]
    [InlineData("Messaging:LabelQueue", "", "Messaging:LabelQueue must be set")]
    [InlineData("Messaging:TrainQueue", " ", "Messaging:TrainQueue must be set")]
    [InlineData("Worker:BatchSize", "0", "Worker:BatchSize must be between 1 and 8192")]
    [InlineData("Worker:MaxMessagesPerReceive", "1000", "Worker:MaxMessagesPerReceive must be between 1 and 256")]
    [InlineData("Worker:ReceiveWait", "00:00:00", "Worker:ReceiveWait must be between")]
    [InlineData("Worker:Device", "tpu", "Worker:Device 'tpu' is not understood")]
    [InlineData("Worker:Layout", "ThreeTower", "Worker:Layout 'ThreeTower' is not understood")]
    [InlineData("Worker:LockRenewInterval", "00:00:05", "Worker:LockRenewInterval (00:00:05) must be shorter than Messaging:LockDuration (00:00:05)")]
    public async Task InvalidSettingStopsTheHostNamingIt(string key, string value, string message)
    {
        var settings = WorkerHost.Settings("options");
        settings[key] = value;
        using IHost host = WorkerHost.Build(settings, new LocalFolderBlobStore(Directory.CreateTempSubdirectory("alexnet-options").FullName));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Diagonal")]
    [InlineData("5")] // the enum's own converter took numbers
    public async Task UnparseableCropModeStopsTheHostNamingIt(string value)
    {
        var settings = WorkerHost.Settings("options");
        settings["Worker:CropMode"] = value;
        using IHost host = WorkerHost.Build(settings, new LocalFolderBlobStore(Directory.CreateTempSubdirectory("alexnet-options").FullName));

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("Worker:CropMode", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ten-crop", CropMode.TenCrop)] // the docs' form, refused by the enum's own converter
    [InlineData("TenCrop", CropMode.TenCrop)]
    [InlineData("center", CropMode.Center)]
    [InlineData("Center", CropMode.Center)]
    public void CropModeTakesTheOneVocabularyAndTheEnumNames(string value, CropMode expected)
    {
        var settings = WorkerHost.Settings("options");
        settings["Worker:CropMode"] = value;
        using IHost host = WorkerHost.Build(settings, new LocalFolderBlobStore(Directory.CreateTempSubdirectory("alexnet-options").FullName));

        Assert.Equal(expected, host.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.CropMode);
    }

    [Fact]
    public async Task ValidSettingsStartTheHost()
    {
        var settings = WorkerHost.Settings("options");
        using IHost host = WorkerHost.Build(settings, new LocalFolderBlobStore(Directory.CreateTempSubdirectory("alexnet-options").FullName));

        await host.StartAsync();
        await host.StopAsync();
    }
}
