using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Model.Network;

/// <summary>
/// The paper's local response normalisation, b = a / (k + alpha * sum of a^2 over n neighbours)^beta with
/// k = 2, n = 5, alpha = 1e-4, beta = 0.75, applied within each group of channels. In the paper each GPU
/// normalised its own kernel maps, so on one device the grouped layout normalises each half separately.
/// Other constants (Caffe's k = 1) come as <see cref="LrnSettings"/>, whose alpha is already divided by the window.
/// </summary>
public sealed class GroupLocalResponseNorm : nn.Module<Tensor, Tensor>
{
    public const int Size = 5;
    public const double PaperAlpha = 1e-4;
    public const double Beta = 0.75;
    public const double K = 2.0;

    private readonly nn.Module<Tensor, Tensor> lrn;
    private readonly int groups;

    public GroupLocalResponseNorm(int groups, string name = "lrn")
        : this(groups, LrnSettings.Paper, name)
    {
    }

    public GroupLocalResponseNorm(int groups, LrnSettings settings, string name = "lrn") : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        ArgumentNullException.ThrowIfNull(settings);
        this.groups = groups;
        // TorchSharp (like PyTorch, Caffe and ONNX) divides alpha by the window size; the paper's formula does not:
        // LrnSettings.Paper holds PaperAlpha * Size.
        lrn = nn.LocalResponseNorm(settings.Size, settings.Alpha, settings.Beta, settings.K);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (groups == 1)
            return lrn.call(input);

        using var scope = NewDisposeScope();
        long[] shape = input.shape;
        Tensor grouped = input.reshape(shape[0] * groups, shape[1] / groups, shape[2], shape[3]);
        return lrn.call(grouped).reshape(shape).MoveToOuterDisposeScope();
    }
}
