using System.CommandLine;
using LatentDiffusion.Bench;

var epochs = new Option<int>("--epochs") { Description = "Timed training epochs, after the warm-up (default 3)", DefaultValueFactory = _ => 3 };
var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up epochs (default 1)", DefaultValueFactory = _ => 1 };
var trainOnly = new Option<bool>("--train-only") { Description = "Time training only (the mode bench/compare.sh uses)" };
var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file ('-' for stdout only)" };
var data = new Option<string?>("--data") { Description = "MNIST directory (default: data/mnist of the repository)" };
var model = new Option<string?>("--model") { Description = "Classifier for inference and FID (default: models/classifier.safetensors)" };
var profile = new Option<string?>("--profile") { Description = "Instead: time forward/backward/step per batch for these comma-separated variants (classifier, blog-order, nchw, blog-order-nchw)" };
var threads = new Option<int>("--threads") { Description = "torch.set_num_threads before anything runs (0: libtorch default)" };
var unetSteps = new Option<int>("--unet-steps") { Description = "Instead: time this many part-3 UNet training steps (batch 128, Adam 1e-3) and print JSON, like bench/pytorch_unet_step.py" };
var vaeSteps = new Option<int>("--vae-steps") { Description = "Instead: time this many part-2 VAE training steps on MNIST (batch 128, Adam 1e-3) and print JSON, like bench/pytorch_vae_epoch.py" };
var aeSteps = new Option<int>("--ae-steps") { Description = "Instead: time this many part-2 autoencoder training steps on MNIST (batch 128, Adam 1e-3) and print JSON" };
var stepWarmup = new Option<int>("--step-warmup", "--unet-warmup") { Description = "Untimed steps before those of --unet-steps, --vae-steps or --ae-steps (default 10)", DefaultValueFactory = _ => 10 };
var channelsLast = new Option<bool>("--channels-last") { Description = "With --vae-steps or --ae-steps: run the model channels-last (ConvEncoder.ChannelsLastLayout)" };
var solvers = new Option<string?>("--solvers") { Description = "Instead: compare the few-step solvers on these comma-separated diffusion model files (FID of --count digits at each --nfe, time, FLOP efficiency against the matmul peak)" };
var nfe = new Option<string>("--nfe") { Description = "With --solvers: network-evaluation budgets (default 5,10,20)", DefaultValueFactory = _ => "5,10,20" };
var count = new Option<int>("--count") { Description = "With --solvers: digits per row (default 10000)", DefaultValueFactory = _ => 10_000 };
var solverSeed = new Option<long>("--seed") { Description = "With --solvers: the sampling seed (default 0)", DefaultValueFactory = _ => 0 };
var only = new Option<string?>("--only") { Description = "With --solvers: only these comma-separated rows, as SAMPLER:SPACING (e.g. heun:uniform,iadb2m:karras)" };
var repeat = new Option<int>("--repeat") { Description = "With --solvers: time each row this many times (scored once) and report the median (default 1)", DefaultValueFactory = _ => 1 };
var solverVae = new Option<string?>("--vae") { Description = "With --solvers, --generation-profile or --onnx-digits: the latent VAE that decodes (default: models/latent-vae.safetensors; e.g. models/latent-vae-sharp.safetensors)" };
var generationProfile = new Option<string?>("--generation-profile") { Description = "Instead: where generation's time goes for this diffusion model (noise, network, update, decode in both layouts, checks, copies, the whole Generate) at each --batches size, --count digits, decoded by --vae" };
var batchSizes = new Option<string>("--batches") { Description = "With --generation-profile: comma-separated batch sizes (default 250,500,1000,2000,5000)", DefaultValueFactory = _ => "250,500,1000,2000,5000" };
var peakOnly = new Option<bool>("--matmul-peak") { Description = "Instead: measure the float32 matmul peak (1024² to 4096²) and print it" };
var onnxDigits = new Option<int>("--onnx-digits") { Description = "Instead: time this many digits from the conditional model, TorchSharp vs ONNX Runtime in one run (same sampler, same threads; --threads, default 2), and print JSON" };
var onnxModel = new Option<string?>("--onnx-model") { Description = "With --onnx-digits: the diffusion model (default: models/conditional.safetensors), decoded by --vae" };
var onnxOut = new Option<string?>("--onnx-out") { Description = "With --onnx-digits: write both image sets there (torch/, onnx/) for ldm fid" };
var serveLatency = new Option<int>("--serve-latency") { Description = "Instead: start ldm serve's server in this process on --serve-models and time this many POST /api/generate of the page's defaults (the first model, 16 digits), after --step-warmup untimed ones" };
var serveModels = new Option<string?>("--serve-models") { Description = "With --serve-latency: the models folder (default: the repository's models/)" };
var threadCrossover = new Option<string?>("--thread-crossover") { Description = "Instead: time a whole generation (the model's default sampler, then the classifier's reading) of each --counts on one thread and on --threads alternately, --repeat pairs: where the server's one-thread rule comes from" };
var crossoverCounts = new Option<string>("--counts") { Description = "With --thread-crossover: comma-separated digit counts (default 1,4,16,32,64,128,256)", DefaultValueFactory = _ => "1,4,16,32,64,128,256" };
var serveCount = new Option<int>("--serve-count") { Description = "With --serve-latency: digits per request (default 16, the page's)", DefaultValueFactory = _ => 16 };
var serveOneThread = new Option<int?>("--serve-one-thread-up-to") { Description = "With --serve-latency: the server's OneThreadUpTo (generations of at most this many digits on one thread; 0: never; default: the server's)" };
var serveModel = new Option<string?>("--serve-model") { Description = "With --serve-latency: the model id to ask for (default: the page's, the first listed)" };
var vaeEpochs = new Option<int>("--vae-epochs") { Description = "Instead: time this many whole epochs of part 2's VAE as ldm vae train runs them (validated and checkpointed every epoch), after one untimed; channels-last unless --nchw" };
var nchw = new Option<bool>("--nchw") { Description = "With --vae-epochs: NCHW, the post's layout, instead of channels-last (ldm vae train's default)" };
var workerSplit = new Option<string?>("--worker-split") { Description = "Instead: 10,000 digits from this diffusion model on the first thread's libtorch team against two one-thread workers, alternately, --repeat rounds (default 5), --nfe's first value as steps (the student: 1), decoded by --vae" };
var unetWidths = new Option<string>("--unet-widths") { Description = "UNet widths (default 64,128)", DefaultValueFactory = _ => "64,128" };

var root = new RootCommand("Benchmarks: classifier training, inference and FID on MNIST; training steps; few-step solvers; ONNX Runtime against TorchSharp; the matmul peak")
{
    epochs, warmup, trainOnly, json, data, model, profile, threads, unetSteps, vaeSteps, aeSteps, stepWarmup, unetWidths, channelsLast, solvers, nfe, count, solverSeed, repeat, solverVae, generationProfile, batchSizes, peakOnly, only, onnxDigits, onnxOut, onnxModel, serveLatency, serveModels, threadCrossover, crossoverCounts, serveCount, serveOneThread, serveModel, vaeEpochs, nchw, workerSplit
};
root.SetAction(parse =>
{
    LatentDiffusion.Native.TorchRuntime.EnsureLoaded();
    if (parse.GetValue(threads) is int n && n > 0) TorchSharp.torch.set_num_threads(n);
    string mnist = parse.GetValue(data) ?? LatentDiffusion.Data.MnistDataset.DefaultDirectory;
    int stepsWarmup = parse.GetValue(stepWarmup);
    if (parse.GetValue(peakOnly))
    {
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(MatmulPeak.Measure([1024, 2048, 4096], log: Console.Error.WriteLine)));
        return 0;
    }
    if (parse.GetValue(serveLatency) is int requests && requests > 0)
    {
        Console.WriteLine(ServeLatency.Run(parse.GetValue(serveModels) ?? Path.GetDirectoryName(LatentDiffusion.IO.ShippedFiles.Model("classifier.safetensors"))!,
            requests, parse.GetValue(serveCount), parse.GetValue(stepWarmup), parse.GetValue(serveOneThread), Console.Error.WriteLine, parse.GetValue(serveModel)));
        return 0;
    }
    if (parse.GetValue(threadCrossover) is string crossoverModel)
    {
        Console.WriteLine(ThreadCrossover.Run(crossoverModel, parse.GetValue(solverVae) ?? LatentDiffusion.IO.ShippedFiles.Model("latent-vae.safetensors"),
            parse.GetValue(model) ?? LatentDiffusion.IO.ShippedFiles.Model("classifier.safetensors"),
            parse.GetValue(crossoverCounts)!.Split(',').Select(int.Parse).ToArray(), Math.Max(3, parse.GetValue(repeat)), Console.Error.WriteLine));
        return 0;
    }
    if (parse.GetValue(workerSplit) is string splitModel)
    {
        Console.WriteLine(WorkerSplit.Run(splitModel, parse.GetValue(solverVae) ?? LatentDiffusion.IO.ShippedFiles.Model("latent-vae.safetensors"),
            int.Parse(parse.GetValue(nfe)!.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture), parse.GetValue(repeat) > 1 ? parse.GetValue(repeat) : 5, Console.Error.WriteLine));
        return 0;
    }
    if (parse.GetValue(generationProfile) is string profiled)
    {
        Console.WriteLine(GenerationProfile.Run(profiled, parse.GetValue(solverVae) ?? LatentDiffusion.IO.ShippedFiles.Model("latent-vae.safetensors"),
            parse.GetValue(batchSizes)!.Split(',').Select(int.Parse).ToArray(), parse.GetValue(count), 3, Console.Error.WriteLine));
        return 0;
    }
    if (parse.GetValue(solvers) is string files)
    {
        // Forward MFLOP per sample counted on the PyTorch twins (python/count_flops.py): UNet by widths, the latent VAE's decoder.
        var unetMflops = new Dictionary<string, double> { ["32,64"] = FlopCounts.UNet32x64, ["64,128"] = FlopCounts.UNet64x128 };
        return SolverBench.Run(files.Split(','), parse.GetValue(nfe)!.Split(',').Select(int.Parse).ToArray(), parse.GetValue(count), parse.GetValue(solverSeed),
            parse.GetValue(solverVae) ?? LatentDiffusion.IO.ShippedFiles.Model("latent-vae.safetensors"), parse.GetValue(model) ?? LatentDiffusion.IO.ShippedFiles.Model("classifier.safetensors"),
            unetMflops, FlopCounts.LatentDecoder, parse.GetValue(json), Console.Error.WriteLine,
            parse.GetValue(only) is string rows ? rows.ToLowerInvariant().Split(',').ToHashSet() : null, Math.Max(1, parse.GetValue(repeat)));
    }
    if (parse.GetValue(onnxDigits) is int digits && digits > 0)
    {
        int t = parse.GetValue(threads) is int k && k > 0 ? k : 2;
        TorchSharp.torch.set_num_threads(t);
        Console.WriteLine(OnnxGenerationBench.Run(digits, t, parse.GetValue(onnxOut), Console.Error.WriteLine, parse.GetValue(onnxModel), parse.GetValue(solverVae)).ToJson());
        return 0;
    }
    if (parse.GetValue(unetSteps) is int steps && steps > 0)
    {
        int[] widths = parse.GetValue(unetWidths)!.Split(',').Select(int.Parse).ToArray();
        Console.WriteLine(TrainingStepBench.UNet(widths, steps, stepsWarmup, Console.Error.WriteLine).ToJson());
        return 0;
    }
    if (parse.GetValue(vaeEpochs) is int wholeEpochs && wholeEpochs > 0)
    {
        Console.WriteLine(VaeEpochBench.Run(mnist, wholeEpochs, !parse.GetValue(nchw), Console.Error.WriteLine));
        return 0;
    }
    if (parse.GetValue(vaeSteps) is int vae && vae > 0)
    {
        Console.WriteLine(TrainingStepBench.Vae(mnist, vae, stepsWarmup, parse.GetValue(channelsLast), Console.Error.WriteLine).ToJson("batch", "batches"));   // pytorch_vae_epoch.py's field names
        return 0;
    }
    if (parse.GetValue(aeSteps) is int ae && ae > 0)
    {
        Console.WriteLine(TrainingStepBench.Autoencoder(mnist, ae, stepsWarmup, parse.GetValue(channelsLast), Console.Error.WriteLine).ToJson());
        return 0;
    }
    if (parse.GetValue(profile) is string variants)
    {
        var rows = Profile.Run(LatentDiffusion.Data.MnistDataset.Load(mnist), 100, variants.Split(','), Console.Error.WriteLine).ToList();
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(rows));
        return 0;
    }
    var options = new BenchOptions(
        TimedEpochs: parse.GetValue(epochs),
        WarmupEpochs: parse.GetValue(warmup),
        TrainOnly: parse.GetValue(trainOnly),
        DataDirectory: parse.GetValue(data),
        ModelPath: parse.GetValue(model));
    BenchResult result = Benchmark.Run(options, Console.Error.WriteLine);
    string text = result.ToJson();
    string? path = parse.GetValue(json);
    if (path == "-") Console.WriteLine(text);
    else
    {
        Console.WriteLine(result.Summary());
        if (path is not null) File.WriteAllText(path, text + Environment.NewLine);
    }
    return 0;
});
return root.Parse(args).Invoke();
