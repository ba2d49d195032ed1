using System.CommandLine;
using LatentDiffusion.Onnx.Cli;

var root = new RootCommand("ldm-lite: digits from the ONNX files ldm export --onnx writes, on ONNX Runtime (no libtorch).");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(PlayCommand.Create());
return LiteApp.Run(root, args);
