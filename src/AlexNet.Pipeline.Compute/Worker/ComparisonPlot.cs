using System.Globalization;
using AlexNet.Model.Reporting;
using AlexNet.Pipeline.Contracts;
using ScottPlot;

namespace AlexNet.Pipeline.Worker;

/// <summary>
/// Top-1 and top-5 validation error of the current model beside the candidate's, as a bar chart (ScottPlot, like the
/// training plots of <see cref="TrainingPlots"/>, whose font file it reuses so the text shows).
/// </summary>
public static class ComparisonPlot
{
    private const string FontFamily = "AlexNet Comparison Sans";
    private static readonly Lock FontGate = new();
    private static bool fontRegistered;

    public static void Write(string path, ModelScore candidate, ModelScore? current)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var plot = new Plot();
        if (RegisterFont())
            plot.Font.Set(FontFamily);
        plot.Title(current is null ? $"Candidate {candidate.Version}" : $"Candidate {candidate.Version} vs current {current.Version}");
        plot.YLabel("validation error");

        const double width = 0.35;
        if (current is not null)
            AddSeries(plot, "current " + current.Version, current, -width / 2, width, Colors.Gray);
        AddSeries(plot, "candidate " + candidate.Version, candidate, current is null ? 0 : width / 2, width, Colors.SteelBlue);
        plot.Axes.Bottom.SetTicks([0, 1], ["top-1", "top-5"]);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.ShowLegend(Edge.Bottom);

        string temporary = path + ".tmp.png";
        plot.SavePng(temporary, 640, 420);
        File.Move(temporary, path, overwrite: true);
    }

    private static void AddSeries(Plot plot, string label, ModelScore score, double offset, double width, Color color)
    {
        var bars = plot.Add.Bars(new[] { offset, 1 + offset }, new[] { score.Top1Error, score.Top5Error });
        bars.LegendText = label;
        bars.Color = color;
        foreach (Bar bar in bars.Bars)
        {
            bar.Size = width;
            bar.Label = bar.Value.ToString("P1", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// ScottPlot's fontconfig-free Skia sees no system fonts; TrainingPlots finds a TrueType file when it first draws
    /// (the confusion plots are drawn before this one), and this plot borrows it. Without it the text is missing.
    /// </summary>
    private static bool RegisterFont()
    {
        lock (FontGate)
        {
            if (!fontRegistered && TrainingPlots.FontFile is { } file)
            {
                Fonts.AddFontFile(FontFamily, file);
                fontRegistered = true;
            }
            return fontRegistered;
        }
    }
}
