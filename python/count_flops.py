"""Forward FLOPs per sample of the PyTorch twins (python/ldm_modules.py): 2 x multiply-adds of every Conv2d,
ConvTranspose2d and Linear, counted with forward hooks on a batch of one (elementwise work, pooling and the time
embedding's sin/cos are not counted: they are a few percent at most and not matmul-shaped). Usage:

    python3 python/count_flops.py            # prints a JSON object: MFLOP per sample by model
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import ldm_modules as m  # noqa: E402


def count(module, *inputs):
    total = [0]

    def conv(layer, args, out):
        k = layer.kernel_size[0] * layer.kernel_size[1]
        total[0] += 2 * out.numel() * (layer.in_channels // layer.groups) * k

    def conv_t(layer, args, out):
        k = layer.kernel_size[0] * layer.kernel_size[1]
        total[0] += 2 * args[0].numel() * (layer.out_channels // layer.groups) * k

    def linear(layer, args, out):
        total[0] += 2 * out.numel() * layer.in_features

    hooks = []
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d):
            hooks.append(layer.register_forward_hook(conv))
        elif isinstance(layer, torch.nn.ConvTranspose2d):
            hooks.append(layer.register_forward_hook(conv_t))
        elif isinstance(layer, torch.nn.Linear):
            hooks.append(layer.register_forward_hook(linear))
    with torch.no_grad():
        module.eval()(*inputs)
    for h in hooks:
        h.remove()
    return total[0] / 1e6


def main():
    t = torch.tensor([500])
    result = {}
    for channels in (4, 8):
        for widths in ((32, 64), (64, 128)):
            unet = m.UNet(latent_channels=channels, widths=widths)
            result[f"unet_{widths[0]}x{widths[1]}_latent{channels}"] = count(unet, torch.zeros(1, channels, 4, 4), t)
    result["post_vae_decoder"] = count(m.VAE().decoder, torch.zeros(1, 4, 4, 4))
    result["latent_vae_decoder"] = count(m.ConvDecoder([8, 32, 16, 8, 1]), torch.zeros(1, 8, 4, 4))
    result["classifier"] = count(m.Classifier(), torch.zeros(1, 1, 32, 32))
    print(json.dumps({k: round(v, 4) for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    main()
