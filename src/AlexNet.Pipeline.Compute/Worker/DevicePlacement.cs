using System.Globalization;
using AlexNet.Model.Network;
using static TorchSharp.torch;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Where the network runs: its layout and one or two devices (<c>cpu</c>, <c>cuda:N</c>). Decided once at start from
/// the CUDA devices torch sees and the <c>Worker:Device</c> and <c>Worker:Layout</c> settings.
/// </summary>
public sealed record DevicePlacement(AlexNetLayout Layout, IReadOnlyList<string> Devices)
{
    public const string Auto = DeviceNames.Auto;

    /// <summary>
    /// The placement for <paramref name="cudaDeviceCount"/> visible CUDA devices. <c>auto</c>: two or more devices
    /// give the paper's two towers on cuda:0 and cuda:1, one gives the grouped network on cuda:0, none the grouped
    /// network on the CPU. An explicit device list or layout overrides either half; one device with TwoTower puts
    /// both towers on it, two devices with Grouped use the first.
    /// </summary>
    /// <exception cref="ArgumentException">A setting does not parse or asks for a device that is not there; the message names the setting.</exception>
    public static DevicePlacement Decide(int cudaDeviceCount, string device = Auto, string layout = Auto)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cudaDeviceCount);
        var (devices, deviceError) = ParseDevices(device);
        var (requested, layoutError) = ParseLayout(layout);
        if (deviceError is not null)
            throw new ArgumentException(deviceError, nameof(device));
        if (layoutError is not null)
            throw new ArgumentException(layoutError, nameof(layout));

        devices ??= cudaDeviceCount switch
        {
            0 => ["cpu"],
            1 => ["cuda:0"],
            _ => requested == AlexNetLayout.Grouped ? ["cuda:0"] : ["cuda:0", "cuda:1"],
        };
        foreach (string name in devices.Where(d => d.StartsWith("cuda", StringComparison.Ordinal)))
        {
            int index = int.Parse(name.AsSpan(5), CultureInfo.InvariantCulture);
            if (index >= cudaDeviceCount)
            {
                throw new ArgumentException(
                    $"Worker:Device asks for {name}, but torch sees {cudaDeviceCount} CUDA device(s){(cudaDeviceCount == 0 ? " (a CPU build of libtorch, or no driver)" : "")}.",
                    nameof(device));
            }
        }

        AlexNetLayout chosen = requested ?? (devices.Count >= 2 ? AlexNetLayout.TwoTower : AlexNetLayout.Grouped);
        if (chosen == AlexNetLayout.Grouped && devices.Count > 1)
            devices = [devices[0]];
        return new DevicePlacement(chosen, devices);
    }

    /// <summary>The placement for this machine: <see cref="Decide"/> with the CUDA device count torch reports.</summary>
    public static DevicePlacement ForThisMachine(WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Decide(cuda.is_available() ? cuda.device_count() : 0, options.Device, options.Layout);
    }

    /// <summary>The devices as torch devices, in tower order.</summary>
    public IReadOnlyList<Device> TorchDevices() => Devices.Select(d => device(d)).ToArray();

    public override string ToString() => $"{Layout} on {string.Join(" + ", Devices)}";

    /// <summary>Devices named by a setting (null for <c>auto</c>), or why the setting is wrong (<see cref="DeviceNames"/>).</summary>
    public static (IReadOnlyList<string>? Devices, string? Error) ParseDevices(string setting) => DeviceNames.Parse(setting, "Worker:Device");

    /// <summary>The layout named by a setting (null for <c>auto</c>), or why the setting is wrong.</summary>
    public static (AlexNetLayout? Layout, string? Error) ParseLayout(string setting)
    {
        if (string.IsNullOrWhiteSpace(setting) || setting.Trim().Equals(Auto, StringComparison.OrdinalIgnoreCase))
            return (null, null);
        string name = setting.Trim();
        return !char.IsAsciiDigit(name[0]) && Enum.TryParse(name, ignoreCase: true, out AlexNetLayout layout) && Enum.IsDefined(layout)
            ? (layout, null)
            : (null, $"Worker:Layout '{setting}' is not understood. Expected auto, Grouped or TwoTower.");
    }
}
