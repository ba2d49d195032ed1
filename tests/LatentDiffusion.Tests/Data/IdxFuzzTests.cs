using System.Buffers.Binary;
using System.Diagnostics;
using LatentDiffusion.Data;
using LatentDiffusion.IO;
using Xunit;
using Xunit.Abstractions;

namespace LatentDiffusion.Tests.Data;

/// <summary>
/// Seeded fuzzing of the IDX reader and the dataset loader, starting from small valid files (20 images of 28x28,
/// 20 labels): truncations at every header offset and at random body offsets, bit flips, every magic byte value,
/// absurd sizes, garbled or cut gzip, count mismatches between files. Every variant must end in a
/// <see cref="DataFormatException"/> naming the corrupted file, or load when the corruption left a valid file (a
/// flipped pixel) — never another exception, a hang, or an allocation sized by the header.
/// </summary>
[Trait("Category", "Slow")]
public sealed class IdxFuzzTests(ITestOutputHelper output) : IDisposable
{
    const int Seed = 20240611;
    const long MaxAllocationPerRead = 50L << 20;

    readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>One corrupted file: read as images or labels; <see cref="MustFail"/> when no outcome but an error is right.</summary>
    sealed record Variant(string Description, bool Images, bool Gzip, byte[] Bytes, bool MustFail);

    [Fact]
    public async Task Read_CorruptedVariants_FailWithDataFormatExceptionOrLoad()
    {
        // On a dedicated thread (not a pool thread, which the download tests' servers need) so that a hang fails the
        // test instead of stalling the run.
        var run = Task.Factory.StartNew(RunFileVariants, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))));
        var (count, failedCleanly, maxAllocated, problems, elapsed) = await run;

        output.WriteLine($"{count} variants in {elapsed.TotalSeconds:0.00} s: {failedCleanly} DataFormatException, " +
                         $"{count - failedCleanly} loaded; largest allocation of one read {maxAllocated} bytes");
        Assert.True(count >= 1000, $"only {count} variants");
        Assert.True(problems.Count == 0, $"{problems.Count} variants misbehaved:\n" + string.Join("\n", problems.Take(20)));
        Assert.True(maxAllocated < MaxAllocationPerRead, $"one read allocated {maxAllocated} bytes");
    }

    [Fact]
    public void Load_CorruptedDatasetFiles_FailNamingTheFile()
    {
        var rng = new Random(Seed + 1);
        var problems = new List<string>();
        int count = 0;
        var stopwatch = Stopwatch.StartNew();
        foreach (var (description, name, mutate) in DatasetVariants(rng))
        {
            count++;
            using var dir = new TempDirectory();
            var files = SyntheticIdx.Dataset(train: 20, test: 10, seed: count);
            files[name] = mutate(files[name]);
            bool gzip = count % 2 == 0;
            SyntheticIdx.Write(dir.Path, files, gzip);
            string path = dir.File(gzip ? name + ".gz" : name);
            try
            {
                MnistDataset.Load(dir.Path);
                problems.Add($"{description}: loaded");
            }
            catch (DataFormatException e)
            {
                if (e.FilePath != path || !e.Message.StartsWith(path, StringComparison.Ordinal))
                    problems.Add($"{description}: names {e.FilePath}, not {path}: {e.Message}");
            }
            catch (Exception e)
            {
                problems.Add($"{description}: {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{count} dataset variants in {stopwatch.Elapsed.TotalSeconds:0.00} s");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    (int Count, int FailedCleanly, long MaxAllocated, List<string> Problems, TimeSpan Elapsed) RunFileVariants()
    {
        var stopwatch = Stopwatch.StartNew();
        var problems = new List<string>();
        int count = 0, failedCleanly = 0;
        long maxAllocated = 0;
        foreach (Variant v in FileVariants(new Random(Seed)))
        {
            string path = temp.File($"variant-{count++}{(v.Gzip ? ".gz" : "")}");
            File.WriteAllBytes(path, v.Bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                if (v.Images) IdxReader.ReadImages(path);
                else IdxReader.ReadLabels(path);
                if (v.MustFail) problems.Add($"{v.Description}: loaded");
            }
            catch (DataFormatException e)
            {
                failedCleanly++;
                if (e.FilePath != path || !e.Message.StartsWith(path + ": ", StringComparison.Ordinal))
                    problems.Add($"{v.Description}: exception names {e.FilePath}: {e.Message}");
            }
            catch (Exception e)
            {
                problems.Add($"{v.Description}: {e.GetType().Name}: {e.Message}");
            }
            maxAllocated = Math.Max(maxAllocated, GC.GetAllocatedBytesForCurrentThread() - before);
            File.Delete(path);
        }
        return (count, failedCleanly, maxAllocated, problems, stopwatch.Elapsed);
    }

    static IEnumerable<Variant> FileVariants(Random rng)
    {
        foreach (bool images in new[] { true, false })
        {
            byte[] raw = images ? SyntheticIdx.Images(20, seed: 7) : SyntheticIdx.Labels(20, seed: 7);
            byte[] gz = SyntheticIdx.Gzip(raw);
            string kind = images ? "images" : "labels";
            int header = images ? 16 : 8;

            // Truncation: every header offset, then random body offsets; never a valid file.
            var rawCuts = Enumerable.Range(0, header + 1).Concat(Enumerable.Range(0, 100).Select(_ => rng.Next(header, raw.Length)));
            foreach (int cut in rawCuts)
                yield return new($"{kind} raw cut at {cut}", images, false, raw[..cut], MustFail: true);
            var gzCuts = Enumerable.Range(0, 40).Concat(Enumerable.Range(0, 100).Select(_ => rng.Next(gz.Length)))
                .Concat(Enumerable.Range(gz.Length - 12, 12));
            foreach (int cut in gzCuts)
                yield return new($"{kind} gzip cut at {cut} of {gz.Length}", images, true, gz[..cut], MustFail: true);

            // Bit flips anywhere (half of them in the header); a flipped pixel or gzip timestamp is still valid.
            for (int i = 0; i < 200; i++)
            {
                byte[] flipped = (byte[])raw.Clone();
                int flips = rng.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    int at = rng.Next(2) == 0 ? rng.Next(header) : rng.Next(flipped.Length);
                    flipped[at] ^= (byte)(1 << rng.Next(8));
                }
                yield return new($"{kind} raw flips #{i}", images, false, flipped, MustFail: false);
            }
            for (int i = 0; i < 100; i++)
            {
                byte[] flipped = (byte[])gz.Clone();
                flipped[rng.Next(flipped.Length)] ^= (byte)(1 << rng.Next(8));
                yield return new($"{kind} gzip flip #{i}", images, true, flipped, MustFail: false);
            }
            // Garbled gzip: a run of random bytes over the compressed data.
            for (int i = 0; i < 60; i++)
            {
                byte[] garbled = (byte[])gz.Clone();
                int at = rng.Next(10, garbled.Length), length = Math.Min(rng.Next(1, 33), garbled.Length - at);
                rng.NextBytes(garbled.AsSpan(at, length));
                yield return new($"{kind} gzip garbled {length} bytes at {at}", images, true, garbled, MustFail: false);
            }

            // Every value of the type byte and of the rank byte; only 0x08 with the right rank is valid.
            int rank = images ? 3 : 1;
            for (int b = 0; b < 256; b++)
            {
                yield return new($"{kind} type byte 0x{b:x2}", images, b % 2 == 0, MaybeGzip(Set(raw, 2, (byte)b), b % 2 == 0), MustFail: b != 0x08);
                yield return new($"{kind} rank byte {b}", images, b % 2 == 1, MaybeGzip(Set(raw, 3, (byte)b), b % 2 == 1), MustFail: b != rank);
            }
            for (int i = 0; i < 20; i++)
            {
                byte[] magic = Set(raw, rng.Next(2), (byte)rng.Next(1, 256));
                yield return new($"{kind} leading magic bytes #{i}", images, false, magic, MustFail: true);
            }

            // Absurd sizes in every dimension, raw and gzipped; 2^31 reads as negative, int.MaxValue exceeds the limit,
            // 2^29 and 1.3M images fit under the limit, so only the real length can stop them.
            int[] sizes = [0, -1, int.MinValue, int.MaxValue, 1 << 29, 1_300_000, 1, 19, 21, 4097];
            for (int d = 0; d < rank; d++)
            {
                foreach (int size in sizes)
                {
                    foreach (bool gzip in new[] { false, true })
                        yield return new($"{kind} dim {d} = {size}{(gzip ? " gzip" : "")}", images, gzip, MaybeGzip(Dim(raw, d, size), gzip), MustFail: true);
                }
            }
            for (int i = 0; i < 50; i++)
            {
                byte[] random = Dim(raw, rng.Next(rank), rng.Next(int.MinValue, int.MaxValue));
                yield return new($"{kind} random dim #{i}", images, i % 2 == 0, MaybeGzip(random, i % 2 == 0), MustFail: false);
            }

            // Trailing bytes, raw and inside the gzip, and garbage after the gzip trailer.
            foreach (int extra in new[] { 1, 7, 784 })
            {
                byte[] longer = [.. raw, .. new byte[extra]];
                yield return new($"{kind} {extra} trailing bytes", images, false, longer, MustFail: true);
                yield return new($"{kind} {extra} trailing bytes in gzip", images, true, SyntheticIdx.Gzip(longer), MustFail: true);
                yield return new($"{kind} {extra} bytes after gzip trailer", images, true, [.. gz, .. new byte[extra]], MustFail: true);
            }
        }

        // Files that are nothing like IDX: random bytes, and random bytes behind a gzip magic.
        for (int i = 0; i < 60; i++)
        {
            byte[] noise = new byte[rng.Next(0, 200)];
            rng.NextBytes(noise);
            bool gzip = i % 3 == 0 && noise.Length >= 2;
            if (gzip) (noise[0], noise[1]) = ((byte)0x1f, (byte)0x8b);
            yield return new($"noise #{i} ({noise.Length} bytes{(gzip ? ", gzip magic" : "")})", i % 2 == 0, gzip, noise, MustFail: true);
        }
    }

    /// <summary>Corruptions only visible across files, or in one file of a whole dataset directory.</summary>
    static IEnumerable<(string Description, string Name, Func<byte[], byte[]> Mutate)> DatasetVariants(Random rng)
    {
        // Count mismatch between an images file and its labels file, each file valid on its own.
        foreach (int labels in new[] { 1, 19, 21, 100 })
        {
            yield return ($"train labels {labels} for 20 images", MnistDataset.TrainLabels, _ => SyntheticIdx.Labels(labels));
            yield return ($"test labels {labels} for 10 images", MnistDataset.TestLabels, _ => SyntheticIdx.Labels(labels));
        }
        foreach (string name in MnistDataset.FileNames)
        {
            bool images = name.Contains("images", StringComparison.Ordinal);
            int header = images ? 16 : 8;
            yield return ($"{name} cut in its header", name, b => b[..rng.Next(header)]);
            yield return ($"{name} cut in its body", name, b => b[..rng.Next(header, b.Length)]);
            yield return ($"{name} rank 0", name, b => Set(b, 3, 0));
            yield return ($"{name} rank 9", name, b => Set(b, 3, 9));
            yield return ($"{name} count 2^31", name, b => Dim(b, 0, int.MinValue));
            yield return ($"{name} count 2^29", name, b => Dim(b, 0, 1 << 29));
            yield return ($"{name} swapped kind", name, _ => images ? SyntheticIdx.Labels(20) : SyntheticIdx.Images(20));
        }
        yield return ("label 10 in test labels", MnistDataset.TestLabels, b => Set(b, 8, 10));
    }

    static byte[] MaybeGzip(byte[] content, bool gzip) => gzip ? SyntheticIdx.Gzip(content) : content;

    static byte[] Set(byte[] bytes, int offset, byte value)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[offset] = value;
        return copy;
    }

    static byte[] Dim(byte[] bytes, int index, int value)
    {
        byte[] copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(4 + 4 * index), value);
        return copy;
    }
}
