using AlexNet.Pipeline.Api;
using AlexNet.Pipeline.Contracts;
using AlexNet.Pipeline.Functions.Tests.Fixtures;
using AlexNet.Pipeline.Labeling;
using AlexNet.Pipeline.Models;
using AlexNet.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlexNet.Pipeline.Functions.Tests;

/// <summary>GET /api/images on Azurite: uploads found by the index tags the worker writes, filtered and paged.</summary>
public sealed class ImagesApiTests(DurableTestHost durable) : IClassFixture<DurableTestHost>, IAsyncLifetime
{
    private readonly PipelineServices pipeline = new();
    private readonly string batch = Azurite.Unique("img");
    private readonly string label = Azurite.Unique("Sneaker");

    private PipelineApi Api => new(durable.Orchestrations, pipeline.Store, new ModelRegistry(pipeline.Store, TimeProvider.System), TimeProvider.System, NullLogger<PipelineApi>.Instance);

    [Fact]
    public async Task ImagesAreFoundByLabelAndMinimumConfidenceAndPaged()
    {
        await TagAsync("a.png", label, 0.3);
        await TagAsync("b.png", label, 0.7);
        await TagAsync("sub/c.png", label, 0.95);
        await TagAsync("d.png", label + "x", 0.99);

        ImagesView all = (await Api.FindImagesAsync(label)).Value!;
        ImagesView confident = (await Api.FindImagesAsync(label, minConfidence: "0.5")).Value!;
        ImagesView exactly = (await Api.FindImagesAsync(label, minConfidence: "0.7")).Value!;
        ImagesView byModel = (await Api.FindImagesAsync(label, model: "v2")).Value!;
        ImagesView first = (await Api.FindImagesAsync(label, limit: "2")).Value!;
        ImagesView rest = (await Api.FindImagesAsync(label, offset: "2", limit: "2")).Value!;

        Assert.Equal([$"{batch}/a.png", $"{batch}/b.png", $"{batch}/sub/c.png"], all.Items.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.Equal([$"{batch}/b.png", $"{batch}/sub/c.png"], confident.Items.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.Equal(2, exactly.Items.Count);
        Assert.Empty(byModel.Items);
        Assert.Equal((2, true), (first.Items.Count, first.More));
        Assert.Equal((1, false), (rest.Items.Count, rest.More));
        Assert.Equal(3, first.Items.Concat(rest.Items).Select(i => i.Name).Distinct().Count());
        ImageView c = Assert.Single(all.Items, i => i.Name.EndsWith("c.png", StringComparison.Ordinal));
        Assert.Equal((PipelineNames.IncomingContainer, batch, "sub/c.png"), (c.Container, c.Batch, c.Path));
        Assert.Contains("\"top1p\" >= '0.5000'", confident.Query, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, null, "label is required")]
    [InlineData("x", "1.5", null, "minConfidence must be a number between 0 and 1")]
    [InlineData("x", "high", null, "minConfidence must be a number between 0 and 1")]
    [InlineData("x", null, "0", "limit must be between 1 and 1000")]
    public async Task ABadQueryIsRefusedWith400(string? name, string? minConfidence, string? limit, string expected)
    {
        ApiResult<ImagesView> result = await Api.FindImagesAsync(name, minConfidence, limit: limit);

        Assert.Equal(400, result.StatusCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALabelCannotLeaveItsStringInTheTagQuery()
    {
        await TagAsync("a.png", label, 0.9);

        ApiResult<ImagesView> result = await Api.FindImagesAsync($"{label}' OR \"top1\" >= '");

        Assert.Equal(200, result.StatusCode);
        Assert.Empty(result.Value!.Items);
        // Two quoted values, the container's and the label's: the quote and the double quotes became '_'.
        Assert.Equal(4, result.Value.Query.Count(c => c == '\''));
        Assert.EndsWith($"\"top1\" = '{label}_ OR _top1_ _= _'", result.Value.Query, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await foreach (var entry in pipeline.Store.ListAsync(PipelineNames.IncomingContainer, batch + "/"))
            await pipeline.Store.DeleteAsync(PipelineNames.IncomingContainer, entry.Name);
        await pipeline.DisposeAsync();
    }

    private async Task TagAsync(string path, string top1, double probability)
    {
        string name = $"{batch}/{path}";
        await pipeline.Store.UploadAsync(PipelineNames.IncomingContainer, name, BinaryData.FromBytes([1, 2, 3]));
        await pipeline.Store.SetTagsAsync(PipelineNames.IncomingContainer, name, new Dictionary<string, string>
        {
            [LabelTags.Top1] = top1,
            [LabelTags.Model] = "v1",
            [LabelTags.Top1Probability] = LabelTags.ProbabilityValue(probability),
        });
    }
}
