using System.ComponentModel;
using System.Globalization;

namespace AlexNet.Model.Inference;

/// <summary>Which crops of the base image the network sees at test time.</summary>
[TypeConverter(typeof(CropModeConverter))]
public enum CropMode
{
    /// <summary>One centre crop.</summary>
    Center,

    /// <summary>The paper's ten: four corners and the centre, and their horizontal reflections; softmax averaged.</summary>
    TenCrop,
}

/// <summary>
/// The one vocabulary of crop modes: <c>center</c> and <c>ten-crop</c> in API bodies, queue messages, records and
/// docs. Parsing also takes the enum's names (<c>Center</c>, <c>TenCrop</c>) and <c>centre</c>, which requests
/// already in flight may carry; numbers are not crop modes.
/// </summary>
public static class CropModes
{
    public const string CenterName = "center";
    public const string TenCropName = "ten-crop";

    public static IReadOnlyList<string> Names { get; } = [CenterName, TenCropName];

    public static string Name(this CropMode mode) => mode switch
    {
        CropMode.Center => CenterName,
        CropMode.TenCrop => TenCropName,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a crop mode"),
    };

    /// <summary>The mode a name stands for; false for anything else, numbers included.</summary>
    public static bool TryParse(string? value, out CropMode mode)
    {
        CropMode? parsed = value?.Trim().ToLowerInvariant() switch
        {
            CenterName or "centre" => CropMode.Center,
            TenCropName or "tencrop" => CropMode.TenCrop,
            _ => null,
        };
        mode = parsed.GetValueOrDefault();
        return parsed is not null;
    }

    /// <summary>Why a name is not a crop mode, or null when it is one.</summary>
    public static string? Error(string field, string value) =>
        TryParse(value, out _) ? null : $"{field} '{value}' is not one of: {string.Join(", ", Names)}";
}

/// <summary>
/// Settings bind crop modes through <see cref="CropModes"/> (so <c>Worker:CropMode=ten-crop</c>, the form the docs
/// give, binds; the enum's own converter refused it and took numbers), and write them by their one name.
/// </summary>
public sealed class CropModeConverter : EnumConverter
{
    public CropModeConverter()
        : base(typeof(CropMode))
    {
    }

    public override object ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? CropModes.TryParse(text, out CropMode mode) ? mode : throw new FormatException(CropModes.Error("crop mode", text))
            : base.ConvertFrom(context, culture, value)!;

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        value is CropMode mode && destinationType == typeof(string) ? mode.Name() : base.ConvertTo(context, culture, value, destinationType);
}
