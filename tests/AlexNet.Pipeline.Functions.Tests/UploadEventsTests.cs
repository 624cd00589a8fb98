using System.Text;
using AlexNet.Pipeline.Ingest;

namespace AlexNet.Pipeline.Functions.Tests;

public sealed class UploadEventsTests
{
    private const string EventGridEvent = """
        {"topic":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st","subject":"/blobServices/default/containers/incoming/blobs/team a/2024/cat 1.jpg","eventType":"Microsoft.Storage.BlobCreated","id":"1","data":{"api":"PutBlob","eTag":"0x8D","contentLength":524,"url":"https://st.blob.core.windows.net/incoming/team%20a/2024/cat%201.jpg"},"dataVersion":"","metadataVersion":"1","eventTime":"2024-01-01T00:00:00Z"}
        """;

    [Fact]
    public void AnEventGridBlobCreatedEventNamesTheContainerAndTheUnescapedBlob()
    {
        var blob = Assert.Single(UploadEvents.Parse(EventGridEvent));

        Assert.Equal(new CreatedBlob("incoming", "team a/2024/cat 1.jpg"), blob);
    }

    [Fact]
    public void ABase64EncodedQueueMessageReadsLikeThePlainEvent()
    {
        string encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(EventGridEvent));

        Assert.Equal(UploadEvents.Parse(EventGridEvent), UploadEvents.Parse(encoded));
    }

    [Fact]
    public void CloudEventsAndArraysAreReadAndOtherEventTypesIgnored()
    {
        const string events = """
            [{"specversion":"1.0","type":"Microsoft.Storage.BlobCreated","source":"/x","id":"1","subject":"/blobServices/default/containers/incoming/blobs/b1/x.png"},
             {"specversion":"1.0","type":"Microsoft.Storage.BlobDeleted","source":"/x","id":"2","subject":"/blobServices/default/containers/incoming/blobs/b1/y.png"}]
            """;

        Assert.Equal([new CreatedBlob("incoming", "b1/x.png")], UploadEvents.Parse(events));
    }

    [Theory]
    [InlineData("not an event at all")]
    [InlineData("{\"eventType\":\"Microsoft.Storage.BlobCreated\",\"subject\":\"/blobServices/default/containers/incoming\"}")]
    [InlineData("[1,2]")]
    public void AMessageThatIsNotABlobEventIsAFormatError(string message) =>
        Assert.Throws<FormatException>(() => UploadEvents.Parse(message));
}
