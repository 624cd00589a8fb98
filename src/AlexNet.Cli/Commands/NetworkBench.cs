using System.Diagnostics;
using AlexNet.Model.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace AlexNet.Cli.Commands;

/// <summary>
/// The network alone on one device and precision: forward (inference mode) and SGD training steps on random data
/// already on the device, the same measurement as the PyTorch eager reference in scripts/gpu/.
/// </summary>
internal static class NetworkBench
{
    public sealed record Result(string Device, string Precision, int Batch, double ForwardImagesPerSecond, double TrainImagesPerSecond);

    /// <summary>
    /// <c>--device</c> through <see cref="DeviceNames"/>; <c>cuda</c> alone means both towers' GPUs when there are two,
    /// <c>auto</c> the GPUs torch sees, else the CPU. A device that is not there is a usage error.
    /// </summary>
    public static IReadOnlyList<Device> ParseDevices(string text)
    {
        var (names, error) = DeviceNames.Parse(text, "--device");
        if (error is not null)
            throw new CliException(error, CliApplication.UsageError);
        int gpus = cuda.is_available() ? (int)cuda.device_count() : 0;
        if (names is null || string.Equals(text.Trim(), "cuda", StringComparison.OrdinalIgnoreCase))
            names = gpus switch { 0 when names is null => ["cpu"], 0 or 1 => ["cuda:0"], _ => ["cuda:0", "cuda:1"] };
        foreach (string name in names.Where(n => n.StartsWith("cuda:", StringComparison.Ordinal)))
        {
            if (int.Parse(name.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture) >= gpus)
                throw new CliException($"--device {text}: {name} is not available to TorchSharp on this machine ({gpus} CUDA device(s))", CliApplication.UsageError);
        }
        return [.. names.Select(name => new Device(name))];
    }

    public static Result Run(AlexNetOptions options, IReadOnlyList<Device> devices, string precision, int batch, int steps, bool tf32)
    {
        ScalarType dtype = precision switch
        {
            "fp32" => ScalarType.Float32,
            "fp16" => ScalarType.Float16,
            "bf16" => ScalarType.BFloat16,
            _ => throw new CliException($"--precision {precision}: use fp32, fp16 or bf16", CliApplication.UsageError),
        };
        if (devices[0].type == DeviceType.CUDA)
        {
            backends.cuda.matmul.allow_tf32 = tf32;
            backends.cudnn.allow_tf32 = tf32;
        }

        using var network = AlexNetFactory.Create(options, devices);
        if (dtype != ScalarType.Float32)
            network.to(dtype);
        Device device = network.InputDevice;
        using var input = torch.randn([batch, 3, options.InputSize, options.InputSize], dtype: dtype, device: device);
        using var targets = torch.randint(0, options.Classes, [batch], dtype: ScalarType.Int64, device: device);

        double forward;
        network.eval();
        using (torch.inference_mode())
        {
            for (int i = 0; i < 3; i++)
                network.call(input).Dispose();
            Synchronize(devices);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
                network.call(input).Dispose();
            Synchronize(devices);
            forward = batch * steps / clock.Elapsed.TotalSeconds;
        }

        network.train();
        using var optimizer = optim.SGD(network.parameters(), 0.01, momentum: 0.9, weight_decay: 5e-4);
        using var loss = nn.CrossEntropyLoss();
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor output = network.call(input);
            loss.call(output.to_type(ScalarType.Float32), targets).backward();
            optimizer.step();
        }
        for (int i = 0; i < 3; i++)
            Step();
        Synchronize(devices);
        var trainClock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
            Step();
        Synchronize(devices);
        double train = batch * steps / trainClock.Elapsed.TotalSeconds;
        return new Result(string.Join(",", devices.Select(d => d.ToString())), precision, batch, forward, train);
    }

    private static void Synchronize(IReadOnlyList<Device> devices)
    {
        foreach (Device device in devices.Where(d => d.type == DeviceType.CUDA))
            cuda.synchronize(device);
    }
}
