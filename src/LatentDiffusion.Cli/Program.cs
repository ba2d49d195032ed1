using System.CommandLine;
using LatentDiffusion.Cli;
using LatentDiffusion.Cli.Commands;

var root = new RootCommand("ldm: the Latent Diffusion Series (MNIST classifier, MNIST-FID, VAE, latent diffusion) in C# on TorchSharp.");
root.Subcommands.Add(ClassifierCommand.Create());
root.Subcommands.Add(AutoencoderCommand.Create());
root.Subcommands.Add(VaeCommand.Create());
root.Subcommands.Add(DiffusionCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(ReproduceCommand.Create());
root.Subcommands.Add(FidCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DistributedCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(PipelineCommand.Create());
return CliApp.Run(root, args);
