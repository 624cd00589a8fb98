using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlexNet.Model.Network;

/// <summary>
/// The paper's layout: two towers, each with half of every layer's kernels and units on a device of its own.
/// Towers exchange activations only where the paper's GPUs communicated: into conv3, fc6, fc7 and fc8.
/// fc8 lives on tower 0's device.
/// </summary>
public sealed class TwoTowerAlexNet : AlexNetNetwork
{
    private readonly Tower tower0;
    private readonly Tower tower1;
    private readonly Linear fc8;
    private readonly Device device0;
    private readonly Device device1;

    public TwoTowerAlexNet(AlexNetOptions options, Device? device0 = null, Device? device1 = null)
        : base("alexnet_two_tower", options)
    {
        if (options.Lrn.AcrossTowers)
            throw new InvalidDataException("LRN across both towers' channels (Caffe's) needs the grouped layout: the towers would have to exchange conv1 and conv2 maps");
        tower0 = new Tower("tower0", options);
        tower1 = new Tower("tower1", options);
        fc8 = nn.Linear(AlexNetArchitecture.HiddenUnits, options.Classes);
        RegisterComponents();
        Initialize();

        this.device0 = device0 ?? CPU;
        this.device1 = device1 ?? this.device0;
        tower0.to(this.device0);
        fc8.to(this.device0);
        tower1.to(this.device1);
    }

    public override Device InputDevice => device0;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        if (Options.InputChannelOrder == ChannelOrder.Bgr)
            input = input.flip(1);
        Tensor a0 = tower0.Lower(input.to(device0));
        Tensor a1 = tower1.Lower(input.to(device1));

        // conv3 sees both towers' conv2 maps.
        Tensor b0 = tower0.Upper(torch.cat([a0, a1.to(device0)], 1));
        Tensor b1 = tower1.Upper(torch.cat([a0.to(device1), a1], 1));

        // fc6 and fc7 see all units of the layer below, from both towers.
        Tensor h0 = tower0.Fc6(torch.cat([b0, b1.to(device0)], 1));
        Tensor h1 = tower1.Fc6(torch.cat([b0.to(device1), b1], 1));
        Tensor g0 = tower0.Fc7(torch.cat([h0, h1.to(device0)], 1));
        Tensor g1 = tower1.Fc7(torch.cat([h0.to(device1), h1], 1));
        return fc8.call(torch.cat([g0, g1.to(device0)], 1)).MoveToOuterDisposeScope();
    }

    public override Dictionary<string, Tensor> ExportWeights()
    {
        // The detached views and device copies are disposed here; only the returned tensors outlive the call.
        using var scope = torch.NewDisposeScope();
        var weights = new Dictionary<string, Tensor>();
        foreach (string layer in AlexNetNetwork.LayerNames.Take(7))
        {
            var (w0, b0) = tower0.Layer(layer);
            var (w1, b1) = tower1.Layer(layer);
            weights[$"{layer}.weight"] = torch.cat([w0.detach().cpu(), w1.detach().cpu()], 0).MoveToOuterDisposeScope();
            weights[$"{layer}.bias"] = torch.cat([b0.detach().cpu(), b1.detach().cpu()], 0).MoveToOuterDisposeScope();
        }
        weights["fc8.weight"] = fc8.weight!.detach().cpu().clone().MoveToOuterDisposeScope();
        weights["fc8.bias"] = fc8.bias!.detach().cpu().clone().MoveToOuterDisposeScope();
        return weights;
    }

    public override void ImportWeights(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        using var noGrad = torch.no_grad();
        foreach (string layer in AlexNetNetwork.LayerNames.Take(7))
        {
            var (w0, b0) = tower0.Layer(layer);
            var (w1, b1) = tower1.Layer(layer);
            long[] weightShape = [.. w0.shape];
            weightShape[0] *= 2;
            RequireWeight(weights, $"{layer}.weight", weightShape);
            RequireWeight(weights, $"{layer}.bias", [b0.shape[0] * 2]);
            Tensor[] w = weights[$"{layer}.weight"].chunk(2, 0);
            Tensor[] b = weights[$"{layer}.bias"].chunk(2, 0);
            w0.copy_(w[0]);
            w1.copy_(w[1]);
            b0.copy_(b[0]);
            b1.copy_(b[1]);
            foreach (Tensor piece in w.Concat(b))
                piece.Dispose();
        }
        RequireWeight(weights, "fc8.weight", fc8.weight!.shape);
        RequireWeight(weights, "fc8.bias", fc8.bias!.shape);
        fc8.weight!.copy_(weights["fc8.weight"]);
        fc8.bias!.copy_(weights["fc8.bias"]);
    }

    protected override IEnumerable<(string Layer, Parameter Weight, Parameter Bias)> LayerParameters()
    {
        foreach (Tower tower in new[] { tower0, tower1 })
        {
            foreach (string layer in AlexNetNetwork.LayerNames.Take(7))
            {
                var (weight, bias) = tower.Layer(layer);
                yield return (layer, weight, bias);
            }
        }
        yield return ("fc8", fc8.weight!, fc8.bias!);
    }

    /// <summary>Half of every layer below fc8, as one of the paper's GPUs held it.</summary>
    private sealed class Tower : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly Conv2d conv2;
        private readonly Conv2d conv3;
        private readonly Conv2d conv4;
        private readonly Conv2d conv5;
        private readonly Linear fc6;
        private readonly Linear fc7;
        private readonly GroupLocalResponseNorm lrn1;
        private readonly GroupLocalResponseNorm lrn2;
        private readonly MaxPool2d pool;
        private readonly Dropout dropout6;
        private readonly Dropout dropout7;

        public Tower(string name, AlexNetOptions options) : base(name)
        {
            const int half = AlexNetArchitecture.Towers;
            conv1 = Conv(3, AlexNetArchitecture.Conv1Kernels / half, 11, 4, options.Conv1Padding, 1);
            conv2 = Conv(AlexNetArchitecture.Conv1Kernels / half, AlexNetArchitecture.Conv2Kernels / half, 5, 1, 2, 1);
            conv3 = Conv(AlexNetArchitecture.Conv2Kernels, AlexNetArchitecture.Conv3Kernels / half, 3, 1, 1, 1);
            conv4 = Conv(AlexNetArchitecture.Conv3Kernels / half, AlexNetArchitecture.Conv4Kernels / half, 3, 1, 1, 1);
            conv5 = Conv(AlexNetArchitecture.Conv4Kernels / half, AlexNetArchitecture.Conv5Kernels / half, 3, 1, 1, 1);
            fc6 = nn.Linear(AlexNetArchitecture.Fc6Inputs(options), AlexNetArchitecture.HiddenUnits / half);
            fc7 = nn.Linear(AlexNetArchitecture.HiddenUnits, AlexNetArchitecture.HiddenUnits / half);
            lrn1 = new GroupLocalResponseNorm(1, options.Lrn);
            lrn2 = new GroupLocalResponseNorm(1, options.Lrn);
            pool = nn.MaxPool2d(3, 2, ceil_mode: options.CeilPooling);
            dropout6 = nn.Dropout(options.DropoutProbability);
            dropout7 = nn.Dropout(options.DropoutProbability);
            RegisterComponents();
        }

        /// <summary>conv1 and conv2 of this tower, on its own input.</summary>
        public Tensor Lower(Tensor input)
        {
            using var scope = NewDisposeScope();
            Tensor x = pool.call(lrn1.call(nn.functional.relu(conv1.call(input))));
            return pool.call(lrn2.call(nn.functional.relu(conv2.call(x)))).MoveToOuterDisposeScope();
        }

        /// <summary>conv3 (on both towers' conv2 maps), conv4 and conv5, flattened.</summary>
        public Tensor Upper(Tensor bothTowers)
        {
            using var scope = NewDisposeScope();
            Tensor x = nn.functional.relu(conv3.call(bothTowers));
            x = nn.functional.relu(conv4.call(x));
            return pool.call(nn.functional.relu(conv5.call(x))).flatten(1).MoveToOuterDisposeScope();
        }

        public Tensor Fc6(Tensor bothTowers) => dropout6.call(nn.functional.relu(fc6.call(bothTowers)));

        public Tensor Fc7(Tensor bothTowers) => dropout7.call(nn.functional.relu(fc7.call(bothTowers)));

        public (Parameter Weight, Parameter Bias) Layer(string name) => name switch
        {
            "conv1" => (conv1.weight!, conv1.bias!),
            "conv2" => (conv2.weight!, conv2.bias!),
            "conv3" => (conv3.weight!, conv3.bias!),
            "conv4" => (conv4.weight!, conv4.bias!),
            "conv5" => (conv5.weight!, conv5.bias!),
            "fc6" => (fc6.weight!, fc6.bias!),
            "fc7" => (fc7.weight!, fc7.bias!),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a tower layer"),
        };

        public override Tensor forward(Tensor input) =>
            throw new NotSupportedException("a tower runs in stages; the network drives it");
    }
}
