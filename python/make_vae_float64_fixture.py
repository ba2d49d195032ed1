#!/usr/bin/python3
"""Adds the float64 train-mode step to tests/LatentDiffusion.Tests/Fixtures/pytorch-vae, for VaeTests.

The fixture's float32 gradients (vae_train_grads.pt) are one float32 rounding of an ill-conditioned function: the
post's raw-sigma KL takes -log sigma^2 with sigma straight out of BatchNorm and LeakyReLU, and on the fixture batch
one sigma is 3.5e-5, so d/d sigma = -2/sigma amplifies the rounding of every kernel in front of it. Which rounding
depends on the CPU's vector kernels (AVX-512, AVX2, none) and the thread count, so a float32-to-float32 comparison
cannot be tight on every machine. This script writes:

  vae_train_grads_f64.pt   the same step (weights, batch, noise, loss) in float64: name -> gradient, float64;
  manifest.json            "vae_train_loss_f64", and "vae_train_float32_error": PyTorch's own float32 gradients on
                           this machine measured against the float64 ones (worst max|g32 - g64| / max|g64| over the
                           parameters, conv biases before BatchNorm left out: their true gradient is 0) for each
                           kernel set it can select - the spread a float32 implementation has to be judged against;
                           "vae_train_float32_error_channels_last": the same for PyTorch's channels-last step (model and
                           batch in torch.channels_last), the reference for a channels-last float32 implementation.

    /usr/bin/python3 python/make_vae_float64_fixture.py
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

import fixture_kernels  # noqa: E402
from ldm_modules import VAE

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "pytorch-vae")

KERNEL_SETS = {"default": {}, **fixture_kernels.KERNEL_SETS}


def floats(name, *shape):
    return fixture_kernels.read_floats(FIXTURE, name, *shape)


def train_step(dtype, channels_last=False):
    """The post's loss on the fixture batch with the fixture noise, train mode, backpropagated -> (loss, gradients)."""
    vae = VAE()
    vae.load_state_dict(torch.load(os.path.join(FIXTURE, "vae_state_dict.pt")))
    vae.to(dtype).train()
    x = floats("inputs.f32", 16, 1, 32, 32).to(dtype)
    noise = floats("vae_noise.f32", 16, 4, 4, 4).to(dtype)
    if channels_last:
        vae.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
        noise = noise.contiguous(memory_format=torch.channels_last)
    x_pred, mu, sigma = vae(x, noise)
    rec = torch.sum((x_pred - x) ** 2, dim=[1, 2, 3])
    sigma2 = sigma ** 2
    minus_kl = -0.5 * torch.sum(sigma2 + mu ** 2 - torch.log(sigma2) - 1.0, dim=[1, 2, 3])
    loss = torch.mean(rec - minus_kl)
    loss.backward()
    return loss.item(), {name: p.grad.detach().clone() for name, p in vae.named_parameters()}


def float32_error(exact, channels_last):
    """Worst relative distance of this process's float32 gradients from `exact`, and the parameter it is in."""
    _, grads = train_step(torch.float32, channels_last)
    worst, where = 0.0, ""
    for name, g in grads.items():
        if name.endswith("._conv.bias"):
            continue
        error = ((g.double() - exact[name]).abs().max() / exact[name].abs().max()).item()
        if error > worst:
            worst, where = error, name
    return worst, where


def main():
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    if len(sys.argv) > 1 and sys.argv[1] == "--float32-error":   # child: one kernel set, one layout
        exact = torch.load(os.path.join(FIXTURE, "vae_train_grads_f64.pt"))
        print(json.dumps(float32_error(exact, sys.argv[2] == "channels-last")))
        return

    loss, grads = train_step(torch.float64)
    torch.save(grads, os.path.join(FIXTURE, "vae_train_grads_f64.pt"))

    errors = {"nchw": {}, "channels-last": {}}
    for layout, found in errors.items():
        for kernels, env in KERNEL_SETS.items():
            for threads in (1, 2):
                out = subprocess.run([sys.executable, __file__, "--float32-error", layout], check=True, capture_output=True,
                                     text=True, env={**os.environ, **env, "THREADS": str(threads)}).stdout
                worst, where = json.loads(out.strip().splitlines()[-1])
                found[f"{kernels}, {threads} thread{'s' if threads > 1 else ''}"] = {"error": worst, "parameter": where}
                print(f"PyTorch float32 vs float64, {layout}, {kernels}, {threads} threads: {worst:.3e} ({where})")

    path = os.path.join(FIXTURE, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    manifest["vae_train_loss_f64"] = loss
    manifest["vae_train_grads_f64"] = "vae_train_grads_f64.pt (the vae_train_loss step in float64: dict name -> float64 gradient)"
    manifest["vae_train_float32_error"] = {
        "about": f"PyTorch {torch.__version__}'s float32 gradients of that step against the float64 ones, worst over the "
                 "parameters of max|g32 - g64| / max|g64| (conv biases before BatchNorm left out), per kernel set "
                 "(ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA) and thread count. Written by python/make_vae_float64_fixture.py.",
        **errors["nchw"],
    }
    manifest["vae_train_float32_error_channels_last"] = {
        "about": "The same for PyTorch's channels-last step (model, batch and noise in torch.channels_last; its "
                 "BatchNorm then sums in float32). Written by python/make_vae_float64_fixture.py.",
        **errors["channels-last"],
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)
    print("float64 loss", loss)


if __name__ == "__main__":
    main()
