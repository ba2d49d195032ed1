#!/usr/bin/python3
"""Adds PyTorch's own spread to tests/LatentDiffusion.Tests/Fixtures/pytorch-steps, for TrainingStepParityTests.

The VAE's twenty Adam steps (python/make_steps_fixture.py) are chaotic under rounding: the raw-sigma KL's -log sigma^2
(one sigma of the batch is 3.5e-5) amplifies each kernel's rounding about 1e4-fold into the encoder's gradients, and
Adam's first steps, g / sqrt(v), turn a gradient's rounding into a step of full size. Which rounding depends on the
CPU's vector kernels (ATen's and oneDNN's) and the thread count, so how closely a float32 implementation can follow
the fixture's losses is a property of PyTorch itself, measured here. This script reruns the fixture's VAE computation
for each kernel set PyTorch's CPU build can be limited to and each thread count, in float32 and in float64, and writes
manifest.json's "vae_losses_spread": name -> {"dtype", "losses"} (the loss before each of the twenty steps).

    /usr/bin/python3 python/make_steps_spread_fixture.py
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
SOURCE = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "pytorch-vae")
OUT = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "pytorch-steps")
STEPS = 20

KERNEL_SETS = fixture_kernels.KERNEL_SETS


def floats(name, *shape):
    return fixture_kernels.read_floats(SOURCE, name, *shape)


def vae_losses(dtype):
    """make_steps_fixture.py's VAE run in `dtype` -> the loss before each step."""
    x = floats("inputs.f32", 16, 1, 32, 32).to(dtype)
    noise = floats("vae_noise.f32", 16, 4, 4, 4).to(dtype)
    vae = VAE()
    vae.load_state_dict(torch.load(os.path.join(SOURCE, "vae_state_dict.pt")))
    vae.to(dtype).train()
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-3)
    losses = []
    for _ in range(STEPS):
        x_pred, mu, sigma = vae(x, noise)
        rec = torch.sum((x_pred - x) ** 2, dim=[1, 2, 3])
        sigma2 = sigma ** 2
        minus_kl = -0.5 * torch.sum(sigma2 + mu ** 2 - torch.log(sigma2) - 1.0, dim=[1, 2, 3])
        loss = torch.mean(rec - minus_kl)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def main():
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    if len(sys.argv) > 1 and sys.argv[1] == "--losses":   # child: one kernel set, one dtype
        print(json.dumps(vae_losses(getattr(torch, sys.argv[2]))))
        return

    runs = {}
    for dtype in ("float32", "float64"):
        for kernels, env in KERNEL_SETS.items():
            for threads in (1, 2):
                out = subprocess.run([sys.executable, __file__, "--losses", dtype], check=True, capture_output=True, text=True,
                                     env={**os.environ, **env, "THREADS": str(threads)}).stdout
                losses = json.loads(out.strip().splitlines()[-1])
                runs[f"{dtype}, {kernels}, {threads} thread{'s' if threads > 1 else ''}"] = {"dtype": dtype, "losses": losses}
                print(f"{dtype}, {kernels}, {threads} threads: {' '.join(f'{v:.4f}' for v in losses[:5])} ... {losses[-1]:.4f}")

    path = os.path.join(OUT, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    manifest["vae_losses_spread"] = {
        "about": f"vae_losses rerun by PyTorch {torch.__version__} from the same start for each kernel set "
                 "(ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA), thread count and dtype: how far PyTorch's own runs are "
                 "from one another. Written by python/make_steps_spread_fixture.py.",
        **runs,
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
