using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlexNet.Model.Network;

/// <summary>
/// The two-tower network on one device: conv2, conv4 and conv5 use two groups (each sees only its own tower's
/// maps), LRN normalises within each tower's half, conv3 and the FC layers are dense (they crossed GPUs).
/// </summary>
public sealed class GroupedAlexNet : AlexNetNetwork
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Conv2d conv4;
    private readonly Conv2d conv5;
    private readonly Linear fc6;
    private readonly Linear fc7;
    private readonly Linear fc8;
    private readonly GroupLocalResponseNorm lrn1;
    private readonly GroupLocalResponseNorm lrn2;
    private readonly MaxPool2d pool;
    private readonly Dropout dropout6;
    private readonly Dropout dropout7;
    private readonly Device device;

    public GroupedAlexNet(AlexNetOptions options, Device? device = null) : base("alexnet", options)
    {
        const int groups = AlexNetArchitecture.Towers;
        conv1 = Conv(3, AlexNetArchitecture.Conv1Kernels, 11, 4, options.Conv1Padding, 1);
        conv2 = Conv(AlexNetArchitecture.Conv1Kernels, AlexNetArchitecture.Conv2Kernels, 5, 1, 2, groups);
        conv3 = Conv(AlexNetArchitecture.Conv2Kernels, AlexNetArchitecture.Conv3Kernels, 3, 1, 1, 1);
        conv4 = Conv(AlexNetArchitecture.Conv3Kernels, AlexNetArchitecture.Conv4Kernels, 3, 1, 1, groups);
        conv5 = Conv(AlexNetArchitecture.Conv4Kernels, AlexNetArchitecture.Conv5Kernels, 3, 1, 1, groups);
        fc6 = nn.Linear(AlexNetArchitecture.Fc6Inputs(options), AlexNetArchitecture.HiddenUnits);
        fc7 = nn.Linear(AlexNetArchitecture.HiddenUnits, AlexNetArchitecture.HiddenUnits);
        fc8 = nn.Linear(AlexNetArchitecture.HiddenUnits, options.Classes);
        int lrnGroups = options.Lrn.AcrossTowers ? 1 : groups;
        lrn1 = new GroupLocalResponseNorm(lrnGroups, options.Lrn);
        lrn2 = new GroupLocalResponseNorm(lrnGroups, options.Lrn);
        pool = nn.MaxPool2d(3, 2, ceil_mode: options.CeilPooling);
        dropout6 = nn.Dropout(options.DropoutProbability);
        dropout7 = nn.Dropout(options.DropoutProbability);
        RegisterComponents();
        Initialize();

        this.device = device ?? CPU;
        if (this.device.type != DeviceType.CPU)
            this.to(this.device);
    }

    public override Device InputDevice => device;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        if (Options.InputChannelOrder == ChannelOrder.Bgr)
            input = input.flip(1);
        Tensor x = pool.call(lrn1.call(nn.functional.relu(conv1.call(input))));
        x = pool.call(lrn2.call(nn.functional.relu(conv2.call(x))));
        x = nn.functional.relu(conv3.call(x));
        x = nn.functional.relu(conv4.call(x));
        x = pool.call(nn.functional.relu(conv5.call(x))).flatten(1);
        x = dropout6.call(nn.functional.relu(fc6.call(x)));
        x = dropout7.call(nn.functional.relu(fc7.call(x)));
        return fc8.call(x).MoveToOuterDisposeScope();
    }

    public override Dictionary<string, Tensor> ExportWeights()
    {
        // The detached views are disposed here; only the returned copies outlive the call.
        using var scope = torch.NewDisposeScope();
        var weights = new Dictionary<string, Tensor>();
        foreach (var (layer, weight, bias) in LayerParameters())
        {
            weights[$"{layer}.weight"] = weight.detach().cpu().clone().MoveToOuterDisposeScope();
            weights[$"{layer}.bias"] = bias.detach().cpu().clone().MoveToOuterDisposeScope();
        }
        return weights;
    }

    public override void ImportWeights(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        using var noGrad = torch.no_grad();
        foreach (var (layer, weight, bias) in LayerParameters())
        {
            RequireWeight(weights, $"{layer}.weight", weight.shape);
            RequireWeight(weights, $"{layer}.bias", bias.shape);
            weight.copy_(weights[$"{layer}.weight"]);
            bias.copy_(weights[$"{layer}.bias"]);
        }
    }

    protected override IEnumerable<(string Layer, Parameter Weight, Parameter Bias)> LayerParameters()
    {
        yield return ("conv1", conv1.weight!, conv1.bias!);
        yield return ("conv2", conv2.weight!, conv2.bias!);
        yield return ("conv3", conv3.weight!, conv3.bias!);
        yield return ("conv4", conv4.weight!, conv4.bias!);
        yield return ("conv5", conv5.weight!, conv5.bias!);
        yield return ("fc6", fc6.weight!, fc6.bias!);
        yield return ("fc7", fc7.weight!, fc7.bias!);
        yield return ("fc8", fc8.weight!, fc8.bias!);
    }
}
