using AlexNet.Model.Evaluation;
using AlexNet.Model.Training;
using ScottPlot;

namespace AlexNet.Model.Reporting;

/// <summary>
/// PNG plots of a run with ScottPlot: loss curves, error curves and the confusion-matrix heatmap.
/// </summary>
/// <remarks>
/// ScottPlot 5.1 is built against SkiaSharp 3.119; AlexNet.Imaging brings SkiaSharp 4.155, which wins at run
/// time. Drawing still works with 4.155, but its fontconfig-free native library (NoDependencies) sees no
/// system fonts, so every label silently vanished. Loading a TrueType file explicitly brings the text back.
/// </remarks>
public static class TrainingPlots
{
    public const string LossFile = "loss.png";
    public const string ErrorFile = "error.png";
    public const string ConfusionFile = "confusion.png";

    private const int Width = 800;
    private const int Height = 500;

    private static readonly Lazy<string?> FontFamily = new(RegisterFont);

    /// <summary>The TrueType file the plots' text is drawn with, or null where none was found (text is then missing).</summary>
    public static string? FontFile { get; private set; }

    /// <summary>Writes <see cref="LossFile"/> and <see cref="ErrorFile"/> into <paramref name="directory"/>.</summary>
    public static void WriteCurves(string directory, IReadOnlyList<EpochMetrics> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
            return;
        double[] epochs = history.Select(m => (double)m.Epoch).ToArray();

        var loss = NewPlot("Loss", "epoch", "cross-entropy");
        AddLine(loss, epochs, history.Select(m => m.TrainLoss), "training");
        AddLine(loss, epochs, history.Select(m => m.ValidationLoss), "validation");
        Save(loss, Path.Combine(directory, LossFile));

        var error = NewPlot("Error", "epoch", "error");
        AddLine(error, epochs, history.Select(m => m.TrainTop1Error), "training top-1");
        AddLine(error, epochs, history.Select(m => m.ValidationTop1Error), "validation top-1");
        AddLine(error, epochs, history.Select(m => m.ValidationTop5Error), "validation top-5");
        Save(error, Path.Combine(directory, ErrorFile));
    }

    /// <summary>The confusion matrix as a heatmap, rows the true class, columns the predicted, shaded by row fraction.</summary>
    public static void WriteConfusion(string path, EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        int n = report.Classes.Count;
        var fractions = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            double total = Math.Max(1, report.ConfusionMatrix[t].Sum());
            for (int p = 0; p < n; p++)
                fractions[t, p] = report.ConfusionMatrix[t][p] / total;
        }
        var plot = NewPlot($"Confusion ({report.CropMode}, top-1 error {report.Top1Error:P1})", "predicted", "true");
        var heatmap = plot.Add.Heatmap(fractions);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.FlipVertically = true;
        plot.Add.ColorBar(heatmap);
        double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        string[] labels = report.Classes.ToArray();
        plot.Axes.Bottom.SetTicks(positions, labels);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Left.SetTicks(positions, labels.Reverse().ToArray());
        Save(plot, path, Width, Width);
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        if (FontFamily.Value is { } family)
            plot.Font.Set(family);
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        return plot;
    }

    private static void AddLine(Plot plot, double[] xs, IEnumerable<double> ys, string label)
    {
        var line = plot.Add.Scatter(xs, ys.ToArray());
        line.LegendText = label;
    }

    private static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        if (plot.Legend.IsVisible is false && plot.GetPlottables().Count() > 1)
            plot.ShowLegend();
        string temporary = path + ".tmp.png";
        plot.SavePng(temporary, width, height);
        File.Move(temporary, path, overwrite: true);
    }

    private static string? RegisterFont()
    {
        string[] preferred = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf"];
        string[] roots = ["/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.Windows), "Fonts"), "/System/Library/Fonts", "/Library/Fonts"];
        var files = roots.Where(Directory.Exists)
            .SelectMany(root => Directory.EnumerateFiles(root, "*.ttf", SearchOption.AllDirectories))
            .ToArray();
        string? file = preferred.Select(name => files.FirstOrDefault(f => Path.GetFileName(f) == name)).FirstOrDefault(f => f is not null)
            ?? files.Order(StringComparer.Ordinal).FirstOrDefault();
        if (file is null)
            return null;
        const string family = "AlexNet Plot Sans";
        Fonts.AddFontFile(family, file);
        FontFile = file;
        return family;
    }
}
