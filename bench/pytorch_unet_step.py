#!/usr/bin/python3
"""Times part 3's latent-diffusion training step (Latent Diffusion Series) on this machine's PyTorch, per step.

The model is python/ldm_modules.py's UNet twin (widths (64, 128), 417284 parameters; the post does not publish its
UNet, this is the layout of src/LatentDiffusion/Models/UNet.cs), the step is the post's training loop body verbatim
(shared/series/parts-2-3.md, section 3.3): batch by fancy indexing of one latent tensor from a fresh torch.randperm
each epoch, t = torch.randint(1, T + 1), the post's do_step (linear schedule, T = 1000, eps ~ N(0, I), MSE),
zero_grad / backward / Adam step, and the `.cpu().numpy()` accumulation. Batch 128 (part 2's; part 3 does not state
it), Adam(1e-3) (not stated either). The latents are N(0, I) draws standing in for VAE latents, (60000, 4, 4, 4):
the step's cost does not depend on their values. Runs --warmup untimed steps, then --steps timed ones, and prints one
JSON object (the style of bench/pytorch_vae_epoch.py).

    /usr/bin/python3 bench/pytorch_unet_step.py [--steps 100] [--warmup 10] [--threads N] [--widths 64,128]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ldm_modules import UNet, do_step, make_linear_schedule, parameter_count  # noqa: E402

from bench_common import rss_mib, cpu_model  # noqa: E402

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps after the warm-up")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up steps")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--widths", default="64,128", help="UNet widths (default 64,128)")
    parser.add_argument("--latents", type=int, default=60000, help="size of the latent training set")
    args = parser.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device("cpu")

    widths = tuple(int(w) for w in args.widths.split(","))
    lat_train = torch.randn(args.latents, 4, 4, 4)
    time_steps = 1000
    batch_size = 128
    learning_rate = 1e-3
    model = UNet(latent_channels=4, widths=widths)
    alpha_prod = make_linear_schedule(time_steps)
    alpha_prod = alpha_prod.to(device)
    optimizer = torch.optim.Adam(model.parameters(), learning_rate)

    total = args.warmup + args.steps
    num_batches = int(math.ceil(lat_train.shape[0] / batch_size))
    num_epochs = int(math.ceil(total / num_batches))
    step_ms, step_loss = [], []
    for i in range(num_epochs):
        model.train()
        train_ids = torch.randperm(lat_train.shape[0])
        average_loss = 0.0
        for bid in range(num_batches):
            if len(step_ms) == total:
                break
            start = time.perf_counter()
            # --- the post's loop body, verbatim ---
            with torch.no_grad():
                batch_ids = train_ids[bid*batch_size:(bid+1)*batch_size]
                x = lat_train[batch_ids,...]
                x = x.to(device)
                t = torch.randint(
                    1, time_steps+1,
                    (x.shape[0],), device=device
                )

            loss = do_step(model, x, t, alpha_prod)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            with torch.no_grad():
                average_loss += loss.cpu().numpy() / num_batches
            # --- end of the post's loop body ---
            step_ms.append((time.perf_counter() - start) * 1000)
            step_loss.append(float(loss.item()))

    timed = step_ms[args.warmup:]
    print(json.dumps({
        "tool": f"PyTorch {torch.__version__}",
        "model": f"part 3 UNet twin (widths {list(widths)}, embedding 16, T = {time_steps} linear)",
        "parameters": parameter_count(model),
        "batch_size": batch_size,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "omp_environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("OMP_", "KMP_", "MKL_"))},
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "step_ms": timed,
        "median_step_ms": statistics.median(timed),
        "mean_step_ms": statistics.mean(timed),
        "train_loss": step_loss[args.warmup:],
        "rss_mib": rss_mib(),
    }, indent=2))


if __name__ == "__main__":
    main()
