using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace AlexNet.Pipeline.Functions.Tests.Fixtures;

/// <summary>
/// The invocation context the Functions host would hand a function, reduced to what a function reads: its services
/// (the app's real ones) and its cancellation token. The host cannot run here, so tests call functions directly.
/// </summary>
public sealed class TestFunctionContext(IServiceProvider services, string functionName = "test") : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => functionName;

    public override TraceContext TraceContext => null!;

    public override BindingContext BindingContext => null!;

    public override RetryContext RetryContext => null!;

    public override IServiceProvider InstanceServices { get; set; } = services;

    public override FunctionDefinition FunctionDefinition => null!;

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features => null!;
}

/// <summary>An HTTP request as the worker delivers it to an <c>HttpRequestData</c> function.</summary>
public sealed class TestHttpRequest(FunctionContext context, string method, string url, string? body = null, Stream? bodyStream = null) : HttpRequestData(context)
{
    public override Stream Body { get; } = bodyStream ?? new MemoryStream(Encoding.UTF8.GetBytes(body ?? string.Empty));

    public override HttpHeadersCollection Headers { get; } = [];

    public override IReadOnlyCollection<IHttpCookie> Cookies { get; } = [];

    public override Uri Url { get; } = new(url);

    public override IEnumerable<ClaimsIdentity> Identities { get; } = [];

    public override string Method => method;

    public override HttpResponseData CreateResponse() => new TestHttpResponse(FunctionContext);
}

public sealed class TestHttpResponse(FunctionContext context) : HttpResponseData(context)
{
    public override HttpStatusCode StatusCode { get; set; }

    public override HttpHeadersCollection Headers { get; set; } = [];

    public override Stream Body { get; set; } = new MemoryStream();

    public override HttpCookies Cookies => throw new NotSupportedException("the pipeline's functions set no cookies");

    public string ReadBody() => Encoding.UTF8.GetString(((MemoryStream)Body).ToArray());
}

/// <summary>A long request body made up as it is read, counting what the reader took.</summary>
public sealed class CountingBodyStream(long length) : Stream
{
    private long position;

    public long BytesRead => position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = (int)Math.Min(count, length - position);
        buffer.AsSpan(offset, n).Fill((byte)' ');
        position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
