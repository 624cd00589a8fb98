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
    var result = new DecodeBenchmark().Run(files, baseSize, iterations);
    Console.WriteLine($"{args[1]}: {result.Files} files x {iterations}, base {baseSize}: {result.ImagesPerSecond:0.0} img/s, {result.SourceMegapixelsPerSecond:0.0} source MP/s, {result.Rejected} rejected");
    return 0;
}

Console.Error.WriteLine("usage: decode-bench.cs prepare DIR | run DIR [iterations] [baseSize]");
return 2;
