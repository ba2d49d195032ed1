#!/usr/bin/python3
"""Times the blog's classifier training loop (Latent Diffusion Series, part 1) on this machine's PyTorch.

The model, optimiser and loop are the blog's: the same nn.Sequential with Dropout, Adam(lr=1e-3), batch 256,
a fresh torch.randperm of the training set each epoch, batches gathered by fancy indexing from one float tensor
(pixels / 255, zero-padded 28x28 -> 32x32), F.cross_entropy on logits, and `loss.item()` summed per batch as the
blog does for its logged train loss. Prints one JSON object (per-epoch seconds of the timed epochs, their median).

    /usr/bin/python3 bench/pytorch_classifier_epoch.py [--epochs 3] [--warmup 1] [--threads N] [--data data/mnist]
"""
import argparse
import gzip
import json
import os
import sys
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import read_idx, locate, rss_mib, cpu_model  # noqa: E402


def classifier():
    # Part 1's architecture, layer for layer (16554 parameters).
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 3, padding="same"), nn.ReLU(), nn.AvgPool2d(4, 4),
        nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 32), nn.ReLU(),
        nn.Linear(32, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="untimed warm-up epochs")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist"))
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--channels-last", action="store_true",
                        help="not the blog's code: model and batches in torch.channels_last, for comparison with ours")
    args = parser.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    images = read_idx(locate(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(locate(args.data, "train-labels-idx1-ubyte"))
    x_train = F.pad(torch.from_numpy(images.copy()).float().unsqueeze(1) / 255, (2, 2, 2, 2))   # (N, 1, 32, 32)
    y_train = torch.from_numpy(labels.astype(np.int64))

    model = classifier()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch_size = args.batch_size
    n = x_train.shape[0]

    seconds, losses, rss = [], [], []
    for epoch in range(args.warmup + args.epochs):
        start = time.perf_counter()
        model.train()
        permutation = torch.randperm(n)
        train_loss = 0.0
        for i in range(0, n, batch_size):
            index = permutation[i:i + batch_size]
            x, y = x_train[index], y_train[index]
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            train_loss += loss.item()
        seconds.append(time.perf_counter() - start)
        losses.append(train_loss / ((n + batch_size - 1) // batch_size))
        rss.append(rss_mib())

    timed = seconds[args.warmup:]
    print(json.dumps({
        "tool": f"PyTorch {torch.__version__}",
        "channels_last": args.channels_last,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "omp_environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("OMP_", "KMP_", "MKL_"))},
        "epochs": args.epochs,
        "warmup_epochs": args.warmup,
        "epoch_seconds": timed,
        "median_epoch_seconds": statistics.median(timed),
        "train_loss": losses,
        "rss_mib_after_epoch": rss,
    }, indent=2))


if __name__ == "__main__":
    main()
