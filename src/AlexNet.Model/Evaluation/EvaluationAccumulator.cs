using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Evaluation;

/// <summary>
/// Adds up class probabilities and labels batch by batch: top-1 and top-5 hits, the negative log-likelihood,
/// per-class counts and the confusion matrix. Top-5 means "the true class is among the 5 most probable" (all
/// classes when there are fewer than 5).
/// </summary>
public sealed class EvaluationAccumulator
{
    private const double MinProbability = 1e-30;

    private readonly IReadOnlyList<string> classes;
    private readonly int[][] confusion;
    private long top1;
    private long top5;
    private double loss;

    public EvaluationAccumulator(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        this.classes = classes;
        confusion = classes.Select(_ => new int[classes.Count]).ToArray();
    }

    public int Images { get; private set; }

    /// <summary>Adds a batch: <paramref name="probabilities"/> [N, classes] and the true classes.</summary>
    public void Add(Tensor probabilities, IReadOnlyList<long> labels)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        int n = (int)probabilities.shape[0], width = (int)probabilities.shape[1];
        if (n != labels.Count || width != classes.Count)
            throw new ArgumentException($"probabilities [{n}, {width}] do not fit {labels.Count} labels of {classes.Count} classes");
        int k = Math.Min(5, width);
        Tensor cpu = probabilities.detach().cpu().to_type(ScalarType.Float32);
        long[] ranked = cpu.topk(k, dim: 1).indexes.data<long>().ToArray();
        float[] values = cpu.data<float>().ToArray();
        for (int i = 0; i < n; i++)
        {
            int label = (int)labels[i];
            ReadOnlySpan<long> best = ranked.AsSpan(i * k, k);
            confusion[label][best[0]]++;
            if (best[0] == label)
                top1++;
            if (best.Contains(label))
                top5++;
            loss -= Math.Log(Math.Max(values[i * width + label], MinProbability));
        }
        Images += n;
    }

    public EvaluationReport Report(string cropMode)
    {
        double images = Math.Max(1, Images);
        var perClass = classes.Select((name, c) => new ClassAccuracy(name, confusion[c].Sum(), confusion[c][c])).ToArray();
        return new EvaluationReport(cropMode, Images, 1 - top1 / images, 1 - top5 / images, loss / images, classes, perClass,
            confusion.Select(row => row.ToArray()).ToArray());
    }
}
