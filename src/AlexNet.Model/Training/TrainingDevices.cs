using static TorchSharp.torch;

namespace AlexNet.Model.Training;

/// <summary>The torch side of <see cref="TrainingOptions"/>, which stays free of TorchSharp for the control plane.</summary>
public static class TrainingDevices
{
    extension(TrainingOptions options)
    {
        /// <summary><see cref="TrainingOptions.Devices"/> as torch devices, or null for the CPU.</summary>
        public IReadOnlyList<Device>? TorchDevices() =>
            options.Devices is { Count: > 0 } names ? [.. names.Select(name => device(name))] : null;
    }
}
