using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Inference;

/// <summary>Batches of base images as tensors, and the paper's test-time crops.</summary>
public static class ImageTensors
{
    /// <summary>
    /// Packs square RGB base images (interleaved bytes, row-major) into one uint8 tensor [N, side, side, 3] on the
    /// device. Bytes cross to the device as uint8, a quarter of the float traffic.
    /// </summary>
    public static Tensor Pack(IReadOnlyList<ReadOnlyMemory<byte>> images, int side, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        int imageBytes = side * side * 3;
        var packed = new byte[images.Count * imageBytes];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Length != imageBytes)
                throw new ArgumentException($"image {i} has {images[i].Length} bytes, a {side}x{side} RGB image has {imageBytes}", nameof(images));
            images[i].Span.CopyTo(packed.AsSpan(i * imageBytes));
        }
        Tensor cpu = torch.tensor(packed, [images.Count, side, side, 3]);
        if (device is null || device.type == DeviceType.CPU)
            return cpu;
        using (cpu)
            return cpu.to(device);
    }

    /// <summary>
    /// uint8 [N, H, W, 3] to float [N, 3, H, W] on the 0-255 scale with the per-channel mean subtracted and, where
    /// <paramref name="std"/> is given, divided by the per-channel standard deviation.
    /// </summary>
    public static Tensor ToNetworkInput(Tensor packed, IReadOnlyList<float> mean, IReadOnlyList<float>? std = null)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentNullException.ThrowIfNull(mean);
        using var scope = NewDisposeScope();
        Tensor channelsFirst = packed.permute(0, 3, 1, 2).to_type(ScalarType.Float32);
        Tensor meanTensor = torch.tensor(mean.ToArray(), [1, 3, 1, 1], device: packed.device);
        Tensor centred = channelsFirst - meanTensor;
        if (std is not null)
            centred.div_(torch.tensor(std.ToArray(), [1, 3, 1, 1], device: packed.device));
        return centred.contiguous().MoveToOuterDisposeScope();
    }

    public static Tensor CenterCrop(Tensor images, int crop)
    {
        ArgumentNullException.ThrowIfNull(images);
        long height = images.shape[2], width = images.shape[3];
        long top = (height - crop) / 2, left = (width - crop) / 2;
        return images[.., .., TensorIndex.Slice(top, top + crop), TensorIndex.Slice(left, left + crop)];
    }

    /// <summary>Ten crops stacked crop-major: [10 * N, 3, crop, crop], crop k of image i at row k * N + i.</summary>
    public static Tensor TenCrops(Tensor images, int crop)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        long height = images.shape[2], width = images.shape[3];
        (long Top, long Left)[] corners =
        [
            (0, 0), (0, width - crop), (height - crop, 0), (height - crop, width - crop),
            ((height - crop) / 2, (width - crop) / 2),
        ];
        var crops = new List<Tensor>(10);
        foreach (var (top, left) in corners)
            crops.Add(images[.., .., TensorIndex.Slice(top, top + crop), TensorIndex.Slice(left, left + crop)]);
        foreach (Tensor view in crops.ToArray())
            crops.Add(view.flip(3));
        return torch.cat(crops, 0).MoveToOuterDisposeScope();
    }
}
