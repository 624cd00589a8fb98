#:project ../../AlexNet.Testing/AlexNet.Testing.csproj

// Decode throughput on one thread, for docs/imaging.md and docs/benchmarks.md (a command, not a test).
//   dotnet run -c Release decode-bench.cs -- prepare DIR    writes DIR/photos500 (500x375 q90) and DIR/gnome
//                                                            (gnome-backgrounds re-encoded as JPEG q90)
//   taskset -c 0 dotnet run -c Release decode-bench.cs -- run DIR/photos500 [iterations] [baseSize]
using AlexNet.Imaging;
using AlexNet.Testing;
using SkiaSharp;

var verb = args.ElementAtOrDefault(0);
if (verb == "prepare" && args.Length >= 2)
{
    var photos = Directory.CreateDirectory(Path.Combine(args[1], "photos500"));
    for (var seed = 0; seed < 100; seed++)
    {
        File.WriteAllBytes(Path.Combine(photos.FullName, $"photo-{seed:000}.jpg"), SampleImages.PhotoJpeg(500, 375, seed, quality: 90));
    }

    var gnome = Directory.CreateDirectory(Path.Combine(args[1], "gnome"));
    foreach (var source in SampleImages.GnomeBackgrounds())
    {
        using var bitmap = SKBitmap.Decode(source);
        var target = Path.Combine(gnome.FullName, Path.GetFileNameWithoutExtension(source) + ".jpg");
        File.WriteAllBytes(target, SampleImages.Encode(bitmap, ImageFormat.Jpeg, 90));
    }

    Console.WriteLine($"wrote {photos.FullName} and {gnome.FullName}");
    return 0;
}

if (verb == "run" && args.Length >= 2)
{
    var files = Directory.GetFiles(args[1], "*.jpg").Order(StringComparer.Ordinal).ToList();
    var iterations = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5;
    var baseSize = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 256;
    var images = files.Select(File.ReadAllBytes).ToList();

    // Alternate ours and the reference twice and keep the better of each: the machine is shared.
    var ours = new DecodeBenchmark().Run(images, baseSize, iterations);
    var reference = FullDecodeRate(images, iterations);
    ours = Better(ours, new DecodeBenchmark().Run(images, baseSize, iterations));
    reference = Math.Max(reference, FullDecodeRate(images, iterations));
    Console.WriteLine($"{args[1]}: {ours.Files} files x {iterations}, base {baseSize}: ours {ours.ImagesPerSecond:0.0} img/s ({ours.SourceMegapixelsPerSecond:0.0} source MP/s, {ours.Rejected} rejected); libjpeg-turbo full-size decode in process {reference:0.0} img/s; ratio {ours.ImagesPerSecond / reference:0.00}");
    return 0;
}

// The same libjpeg-turbo djpeg runs, without a process per file: a full-size decode to RGBA through SKCodec.
static double FullDecodeRate(IReadOnlyList<byte[]> images, int iterations)
{
    var started = System.Diagnostics.Stopwatch.GetTimestamp();
    for (var i = 0; i < iterations; i++)
    {
        foreach (var bytes in images)
        {
            using var data = SKData.CreateCopy(bytes);
            using var codec = SKCodec.Create(data);
            var info = codec.Info.WithColorType(SKColorType.Rgba8888).WithAlphaType(SKAlphaType.Opaque);
            using var bitmap = new SKBitmap(info);
            codec.GetPixels(info, bitmap.GetPixels());
        }
    }

    return images.Count * iterations / System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
}

static DecodeBenchmarkResult Better(DecodeBenchmarkResult a, DecodeBenchmarkResult b) => a.ImagesPerSecond >= b.ImagesPerSecond ? a : b;

Console.Error.WriteLine("usage: decode-bench.cs prepare DIR | run DIR [iterations] [baseSize]");
return 2;
