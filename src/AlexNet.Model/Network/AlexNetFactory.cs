using static TorchSharp.torch;

namespace AlexNet.Model.Network;

/// <summary>Builds a network in the layout and on the devices asked for.</summary>
public static class AlexNetFactory
{
    /// <param name="devices">Grouped: the first device (CPU if none). Two towers: tower 0 on the first, tower 1 on
    /// the second (or the first again).</param>
    public static AlexNetNetwork Create(AlexNetOptions options, IReadOnlyList<Device>? devices = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Device first = devices is { Count: > 0 } ? devices[0] : CPU;
        return options.Layout switch
        {
            AlexNetLayout.Grouped => new GroupedAlexNet(options, first),
            AlexNetLayout.TwoTower => new TwoTowerAlexNet(options, first, devices is { Count: > 1 } ? devices[1] : first),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Layout, "unknown layout"),
        };
    }
}
