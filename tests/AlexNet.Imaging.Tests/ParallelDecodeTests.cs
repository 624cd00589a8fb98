using AlexNet.Testing;
using SkiaSharp;

namespace AlexNet.Imaging.Tests;

public class ParallelDecodeTests
{
    [Fact]
    public async Task ParallelDecodesGiveTheSameBytesAsSequentialOnes()
    {
        var decoder = new ImageDecoder();
        var inputs = Enumerable.Range(0, 6).Select(s => SampleImages.PhotoJpeg(480 + (s * 40), 360, seed: s))
            .Concat(SampleImages.SmallPhotos(300, 200).Select(p => p.Bytes))
            .Append(SampleImages.Bands(ImageFormat.Png, 900, 300, [SKColors.Red, SKColors.Blue, SKColors.Lime]))
            .ToList();
        var expected = inputs.Select(i => decoder.Decode(i).Image!.Pixels).ToList();

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var round = 0; round < 5; round++)
            {
                for (var i = 0; i < inputs.Count; i++)
                {
                    var index = (i + w + round) % inputs.Count;
                    var result = decoder.Decode(inputs[index]);
                    Assert.True(result.IsDecoded, result.ToString());
                    Assert.Equal(expected[index], result.Image.Pixels);
                }
            }
        }));

        await Task.WhenAll(workers);
    }
}
