#!/usr/bin/python3
"""Times the post's VAE training loop (Latent Diffusion Series, part 2) on this machine's PyTorch, per batch.

The encoder/decoder are the post's classes (python/ldm_modules.py: ConvEncoder([1, 8, 16, 32, 8]) and
ConvDecoder([4, 32, 16, 8, 1]), 52965 parameters), and the loop body is the post's VAE training loop verbatim
(shared/series/parts-2-3.md, section 2.3): a fresh torch.randperm each epoch, batches by fancy indexing of one
float tensor (pixels / 255, zero-padded 28x28 -> 32x32, channel added on the fly), z = s * sigma + mu, summed
squared error minus the (negative) KL, averaged over the batch, and the three `.cpu().numpy()` accumulations.
Adam(1e-3) over both modules and batch 128 are the post's autoencoder settings (the VAE's are not stated).
Runs --warmup untimed batches, then --batches timed ones (crossing epochs as needed), and prints one JSON object.

    /usr/bin/python3 bench/pytorch_vae_epoch.py [--batches 50] [--warmup 10] [--threads N] [--channels-last] [--data data/mnist]

With --epochs E it times whole epochs instead: one untimed epoch, then E, each the post's loop over every batch
followed by the post's validation block on the 10k test images (its i_log = 1: every epoch, as ours validates in
the comparison), wall time per epoch as epoch_seconds.
"""
import argparse
import gzip
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from ldm_modules import ConvDecoder, ConvEncoder  # noqa: E402  (the post's classes)

from bench_common import read_idx, locate, rss_mib, cpu_model  # noqa: E402

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50, help="timed batches after the warm-up")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up batches")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=0, help="instead of batches: time this many whole epochs (training + validation) after one untimed")
    parser.add_argument("--channels-last", action="store_true",
                        help="not the post's code: modules and batches in torch.channels_last, for comparison with ours")
    args = parser.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device("cpu")

    images = read_idx(locate(args.data, "train-images-idx3-ubyte"))
    x_train = F.pad(torch.from_numpy(images.copy()).float() / 255.0, (2, 2, 2, 2), value=0)   # (N, 32, 32)

    features = [1, 8, 16, 32]
    latent_channels = 4
    batch_size = 128
    learning_rate = 1e-3
    encoder = ConvEncoder(features + [2 * latent_channels,])
    decoder = ConvDecoder([latent_channels,] + features[::-1])
    if args.channels_last:
        encoder = encoder.to(memory_format=torch.channels_last)
        decoder = decoder.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), learning_rate)

    num_batches = int(math.ceil(x_train.shape[0] / batch_size))
    whole = args.epochs > 0
    if whole:
        val_images = read_idx(locate(args.data, "t10k-images-idx3-ubyte"))
        x_val = F.pad(torch.from_numpy(val_images.copy()).float() / 255.0, (2, 2, 2, 2), value=0)   # (10000, 32, 32)
        total = (args.epochs + 1) * num_batches
    else:
        total = args.warmup + args.batches
    num_epochs = int(math.ceil(total / num_batches))
    epoch_seconds = []
    batch_ms, batch_loss = [], []
    for i in range(num_epochs):
        epoch_start = time.perf_counter()
        encoder.train()
        decoder.train()
        train_ids = torch.randperm(x_train.shape[0])
        average_loss = 0.0
        mean_rec = 0.0
        mean_kl  = 0.0
        for bid in range(num_batches):
            if len(batch_ms) == total:
                break
            start = time.perf_counter()
            # --- the post's loop body, verbatim (channels-last conversion aside) ---
            with torch.no_grad():
                batch_ids = train_ids[bid*batch_size:(bid+1)*batch_size]
                x = x_train[batch_ids,None,...]
                x = x.to(device)
                if args.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)

            mu_sigma = encoder(x)
            mu    = mu_sigma[:,:latent_channels,:,:]
            sigma = mu_sigma[:,latent_channels:,:,:]
            s = torch.normal(0, 1, size=mu.shape, device=device)
            z = s * sigma + mu
            x_pred = decoder(z)

            reconstruction_loss = torch.sum((x_pred - x)**2, dim=[1,2,3])
            sigma2 = sigma**2
            kl_loss = sigma2 + mu**2 - torch.log(sigma2) - 1.0
            kl_loss = -0.5 * torch.sum(kl_loss, dim=[1,2,3])
            loss = reconstruction_loss - kl_loss
            loss = torch.mean(loss)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            with torch.no_grad():
                average_loss += loss.cpu().numpy()
                mean_rec += torch.mean(reconstruction_loss).cpu().numpy()
                mean_kl  += torch.mean(kl_loss).cpu().numpy()
            # --- end of the post's loop body ---
            batch_ms.append((time.perf_counter() - start) * 1000)
            batch_loss.append(float(loss.item()))
        if whole:
            # --- the post's validation block, verbatim (every epoch) ---
            encoder.eval()
            decoder.eval()
            with torch.no_grad():
                mu_sigma = encoder(x_val[:,None,...].to(device))
                mu    = mu_sigma[:,:latent_channels,:,:]
                sigma = mu_sigma[:,latent_channels:,:,:]
                s = torch.normal(0, 1, size=mu.shape, device=device)
                z = s * sigma + mu
                x_val_pred = decoder(z).cpu()

                reconstruction_loss = (x_val_pred - x_val[:,None,...])**2
                reconstruction_loss = torch.sum(reconstruction_loss, dim=[1,2,3])
                sigma2 = sigma **2
                kl_loss = sigma2 + mu**2 - torch.log(sigma2) - 1.0
                kl_loss = -0.5 * torch.sum(kl_loss, dim=[1,2,3])
                val_loss = reconstruction_loss - kl_loss.cpu()
                val_loss = torch.mean(val_loss).numpy()
            # --- end of the post's validation block ---
            epoch_seconds.append(time.perf_counter() - epoch_start)

    if whole:
        timed = epoch_seconds[1:]
        print(json.dumps({
            "tool": f"PyTorch {torch.__version__}",
            "model": "part 2 VAE (ConvEncoder [1, 8, 16, 32, 8], ConvDecoder [4, 32, 16, 8, 1])",
            "channels_last": args.channels_last,
            "cpu": cpu_model(),
            "torch_threads": torch.get_num_threads(),
            "epochs": args.epochs,
            "warmup_epochs": 1,
            "epoch_seconds": timed,
            "median_epoch_seconds": statistics.median(timed),
            "val_loss": float(val_loss),
        }, indent=2))
        return
    timed = batch_ms[args.warmup:]
    print(json.dumps({
        "tool": f"PyTorch {torch.__version__}",
        "model": "part 2 VAE (ConvEncoder [1, 8, 16, 32, 8], ConvDecoder [4, 32, 16, 8, 1])",
        "parameters": sum(p.numel() for m in (encoder, decoder) for p in m.parameters()),
        "batch_size": batch_size,
        "channels_last": args.channels_last,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "omp_environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("OMP_", "KMP_", "MKL_"))},
        "batches": args.batches,
        "warmup_batches": args.warmup,
        "batch_ms": timed,
        "median_batch_ms": statistics.median(timed),
        "mean_batch_ms": statistics.mean(timed),
        "train_loss": batch_loss[args.warmup:],
        "rss_mib": rss_mib(),
    }, indent=2))


if __name__ == "__main__":
    main()
