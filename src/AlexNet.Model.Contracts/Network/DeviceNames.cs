using System.Globalization;

namespace AlexNet.Model.Network;

/// <summary>
/// The one reading of a device setting, for the worker's <c>Worker:Device</c>, the CLI's <c>--device</c> and train jobs:
/// <c>auto</c>, <c>cpu</c>, <c>cuda</c> (cuda:0), <c>cuda:N</c>, or two of them such as <c>cuda:0,cuda:1</c> (the
/// network splits over at most two). Syntax only: whether the devices exist is for the caller, which has torch.
/// </summary>
public static class DeviceNames
{
    public const string Auto = "auto";

    public const string Expected = "auto, cpu, cuda, cuda:N, or two devices such as 'cuda:0,cuda:1'";

    /// <summary>Normalised device names (<c>cpu</c>, <c>cuda:N</c>; null for <c>auto</c>), or why <paramref name="value"/> is wrong.</summary>
    /// <param name="setting">How the caller names the setting in the error, e.g. <c>Worker:Device</c> or <c>--device</c>.</param>
    public static (IReadOnlyList<string>? Devices, string? Error) Parse(string? value, string setting)
    {
        if (string.IsNullOrWhiteSpace(value))
            return (null, $"{setting} must be set: {Expected}.");
        string trimmed = value.Trim();
        if (trimmed.Equals(Auto, StringComparison.OrdinalIgnoreCase))
            return (null, null);

        var devices = new List<string>();
        foreach (string part in trimmed.Split(',', StringSplitOptions.TrimEntries))
        {
            string lower = part.ToLowerInvariant();
            if (lower == "cpu")
                devices.Add("cpu");
            else if (lower == "cuda")
                devices.Add("cuda:0");
            else if (lower.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(lower.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < 64)
                devices.Add($"cuda:{index}");
            else
                return (null, $"{setting} '{value}' is not understood: '{part}' is not a device. Expected {Expected}.");
        }
        if (devices.Count > 2)
            return (null, $"{setting} '{value}' names {devices.Count} devices; the network splits over at most 2.");
        return (devices, null);
    }
}
