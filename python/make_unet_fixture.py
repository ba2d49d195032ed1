#!/usr/bin/python3
"""Writes tests/LatentDiffusion.Tests/Fixtures/pytorch-unet: part 3's UNet, embedding, schedules and training step in
PyTorch, for the C# parity tests (tests/LatentDiffusion.Tests/Models/UNetTests.cs, Diffusion/NoiseScheduleTests.cs).

The modules are python/ldm_modules.py's part-3 twins: the post's SinusoidalPositionalEmbedding, TimeEmbeddingConvBlock,
make_linear_schedule, make_cosine_schedule and do_step (shared/series/parts-2-3.md, sections 3.1-3.3), and the UNet
with widths (64, 128) whose keys match src/LatentDiffusion/Models/UNet.cs. Freshly initialised (seed 0), not trained.
Run once; the output is committed (raw little-endian arrays, .pt files from torch.save, manifest.json):

    /usr/bin/python3 python/make_unet_fixture.py [--out tests/LatentDiffusion.Tests/Fixtures/pytorch-unet]
"""
import argparse
import json
import os

import numpy as np
import torch

from ldm_modules import UNet, do_step, make_cosine_schedule, make_linear_schedule, parameter_count

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "pytorch-unet")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    manifest = {
        "about": "Part 3's UNet twin (python/ldm_modules.py, widths (64, 128), embedding dim 16 scale 1000, seed 0, "
                 "untrained), the post's schedules (T = 1000) and do_step, by PyTorch " + torch.__version__ + ". "
                 "Written by python/make_unet_fixture.py.",
    }

    def array(name, tensor, dtype):
        a = tensor.detach().cpu().numpy().astype(dtype)
        file = name + {"float32": ".f32", "int64": ".i64"}[dtype]
        a.astype("<" + a.dtype.str[1:]).tofile(os.path.join(out, file))
        manifest[name] = {"file": file, "dtype": dtype, "shape": list(a.shape), "byte_order": "little"}

    torch.manual_seed(0)
    model = UNet(latent_channels=4, widths=(64, 128))
    torch.save(model.state_dict(), os.path.join(out, "unet_state_dict.pt"))
    manifest["unet_state_dict"] = "unet_state_dict.pt"
    manifest["unet_config"] = {"latent_channels": 4, "widths": [64, 128], "emb_dim": 16, "emb_scale": 1000}
    manifest["unet_params"] = parameter_count(model)
    manifest["state_dict_keys"] = list(model.state_dict().keys())

    x = torch.randn(8, 4, 4, 4)                                           # stands in for VAE latents, ~N(0, I)
    t = torch.tensor([1, 2, 37, 250, 500, 731, 999, 1000], dtype=torch.int64)
    eps = torch.randn(8, 4, 4, 4)
    array("x", x, "float32")
    array("t", t, "int64")
    manifest["t_values"] = t.tolist()
    array("eps", eps, "float32")

    # Embedding of t: (8, 16) = [sin(t f), cos(t f)].
    array("embedding", model.embedding(t), "float32")
    manifest["emb_factor"] = model.embedding.emb_factor.tolist()

    # Forward of x at t: InstanceNorm keeps no running statistics, so train and eval mode must agree bit for bit.
    with torch.no_grad():
        model.eval()
        y_eval = model(x, t)
        model.train()
        y_train = model(x, t)
    manifest["train_equals_eval_bitwise"] = bool(torch.equal(y_eval, y_train))
    assert manifest["train_equals_eval_bitwise"], "train- and eval-mode outputs differ"
    array("output", y_eval, "float32")

    # Schedules, (1000,) float32: the post's functions verbatim.
    linear = make_linear_schedule(1000)
    cosine = make_cosine_schedule(1000)
    assert linear.dtype == torch.float32 and cosine.dtype == torch.float32
    array("alpha_bar_linear", linear, "float32")
    array("alpha_bar_cosine", cosine, "float32")
    manifest["alpha_bar_linear_1_500_1000"] = [linear[0].item(), linear[499].item(), linear[999].item()]
    manifest["alpha_bar_cosine_1_500_1000"] = [cosine[0].item(), cosine[499].item(), cosine[999].item()]

    # do_step with the linear schedule and the fixture's eps, train mode, backpropagated.
    model.train()
    model.zero_grad()
    ap = linear[t - 1].view(-1, 1, 1, 1)
    array("x_t", torch.sqrt(ap) * x + torch.sqrt(1.0 - ap) * eps, "float32")
    loss = do_step(model, x, t, linear, eps=eps)
    loss.backward()
    manifest["do_step_loss"] = loss.item()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters()}
    torch.save(grads, os.path.join(out, "unet_grads.pt"))
    manifest["unet_grads"] = "unet_grads.pt (dict name -> gradient of do_step_loss, the state_dict's parameter keys)"

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"{out}: {manifest['unet_params']} parameters, loss {manifest['do_step_loss']:.6f}, {total} bytes")


if __name__ == "__main__":
    main()
