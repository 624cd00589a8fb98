using System.Buffers;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace AlexNet.Imaging;

/// <summary>
/// A pinned managed pixel buffer that Skia reads and draws into: warm pooled memory instead of a fresh native
/// allocation (and its page faults) per image, and allocations the GC can see and a test can measure.
/// </summary>
internal sealed class PooledPixels : IDisposable
{
    // Buffers up to this size are rented; anything larger is rare and should not stay pooled.
    private const int MaxPooledBytes = 32 * 1024 * 1024;

    private readonly byte[] array;
    private readonly bool pooled;
    private GCHandle handle;

    private PooledPixels(SKImageInfo info, byte[] array, bool pooled)
    {
        Info = info;
        this.array = array;
        this.pooled = pooled;
        handle = GCHandle.Alloc(array, GCHandleType.Pinned);
    }

    public SKImageInfo Info { get; }

    public int RowBytes => Info.RowBytes;

    public IntPtr Address => handle.AddrOfPinnedObject();

    public ReadOnlySpan<byte> Bytes => array.AsSpan(0, Info.BytesSize);

    /// <summary>Null when the buffer would exceed the largest array .NET can allocate.</summary>
    public static PooledPixels? Rent(SKImageInfo info)
    {
        var size = info.BytesSize64;
        if (size > Array.MaxLength)
        {
            return null;
        }

        var pooled = size <= MaxPooledBytes;
        var array = pooled ? ArrayPool<byte>.Shared.Rent((int)size) : GC.AllocateUninitializedArray<byte>((int)size);
        return new PooledPixels(info, array, pooled);
    }

    /// <summary>An image over these pixels, without a copy; dispose it before this buffer.</summary>
    public SKImage ToImage() =>
        SKImage.FromPixels(Info, Address, RowBytes) ?? throw new InvalidOperationException("Skia refused to wrap a pixel buffer.");

    /// <summary>A canvas drawing into these pixels; dispose it before this buffer.</summary>
    public SKSurface ToSurface() =>
        SKSurface.Create(Info, Address, RowBytes) ?? throw new InvalidOperationException("Skia refused to draw into a pixel buffer.");

    public void Dispose()
    {
        if (!handle.IsAllocated)
        {
            return;
        }

        handle.Free();
        if (pooled)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
