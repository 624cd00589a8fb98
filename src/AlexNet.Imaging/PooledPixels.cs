using System.Buffers;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace AlexNet.Imaging;

/// <summary>
/// A pixel buffer that Skia reads and draws into. Buffers up to 32 MB are pinned managed arrays from the shared
/// pool: warm memory instead of a fresh native allocation (and its page faults) per image, visible to the GC.
/// Larger ones (a full-size decode of a big PNG: up to 320 MB) are native memory freed on <see cref="Dispose"/>,
/// so they leave the process at once instead of waiting in the large-object heap for a full collection; the GC is
/// told of them as memory pressure.
/// </summary>
internal sealed unsafe class PooledPixels : IDisposable
{
    // Buffers up to this size are rented; anything larger is rare and should not stay pooled.
    private const int MaxPooledBytes = 32 * 1024 * 1024;

    private readonly byte[]? array;
    private readonly long nativeBytes;
    private GCHandle handle;
    private void* native;

    private PooledPixels(SKImageInfo info, byte[] array)
    {
        Info = info;
        this.array = array;
        handle = GCHandle.Alloc(array, GCHandleType.Pinned);
    }

    private PooledPixels(SKImageInfo info, long bytes)
    {
        Info = info;
        nativeBytes = bytes;
        native = NativeMemory.Alloc((nuint)bytes);
        GC.AddMemoryPressure(bytes);
    }

    public SKImageInfo Info { get; }

    public int RowBytes => Info.RowBytes;

    public IntPtr Address => array is null ? (IntPtr)native : handle.AddrOfPinnedObject();

    public ReadOnlySpan<byte> Bytes => array is null ? new ReadOnlySpan<byte>(native, Info.BytesSize) : array.AsSpan(0, Info.BytesSize);

    /// <summary>Null when the buffer would exceed the largest array .NET can allocate.</summary>
    public static PooledPixels? Rent(SKImageInfo info)
    {
        var size = info.BytesSize64;
        if (size > Array.MaxLength)
        {
            return null;
        }

        return size <= MaxPooledBytes
            ? new PooledPixels(info, ArrayPool<byte>.Shared.Rent((int)size))
            : new PooledPixels(info, size);
    }

    /// <summary>An image over these pixels, without a copy; dispose it before this buffer.</summary>
    public SKImage ToImage() =>
        SKImage.FromPixels(Info, Address, RowBytes) ?? throw new InvalidOperationException("Skia refused to wrap a pixel buffer.");

    /// <summary>A canvas drawing into these pixels; dispose it before this buffer.</summary>
    public SKSurface ToSurface() =>
        SKSurface.Create(Info, Address, RowBytes) ?? throw new InvalidOperationException("Skia refused to draw into a pixel buffer.");

    public void Dispose()
    {
        if (array is not null)
        {
            if (handle.IsAllocated)
            {
                handle.Free();
                ArrayPool<byte>.Shared.Return(array);
            }

            return;
        }

        if (native is not null)
        {
            NativeMemory.Free(native);
            native = null;
            GC.RemoveMemoryPressure(nativeBytes);
        }
    }
}
