#!/usr/bin/python3
"""Writes tests/LatentDiffusion.Tests/Fixtures/pytorch-steps: twenty Adam steps of part 2's autoencoder and VAE in
PyTorch, for the C# test that the training loop's arithmetic (forward, backward, Adam, BatchNorm's running statistics)
follows PyTorch step after step, not just for one gradient (tests/LatentDiffusion.Tests/Training/TrainingStepParityTests.cs).

Both start from the PyTorch fixture's weights (Fixtures/pytorch-vae: ae_state_dict.pt, vae_state_dict.pt) and train in
train mode on that fixture's 16 images (inputs.f32) with Adam(lr=1e-3, the post's), the post's losses (per-image
summed squared error, + the KL for the VAE with z = s * sigma + mu), and for the VAE the same noise s (vae_noise.f32)
at every step. Written: the loss before each step and the state_dicts after the last. Run once; the output is committed:

    /usr/bin/python3 python/make_steps_fixture.py
"""
import json
import os

import numpy as np
import torch

from ldm_modules import VAE, ConvAutoencoder

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "pytorch-vae")
OUT = os.path.join(HERE, "..", "tests", "LatentDiffusion.Tests", "Fixtures", "pytorch-steps")
STEPS = 20


def floats(name, *shape):
    return torch.from_numpy(np.fromfile(os.path.join(SOURCE, name), dtype="<f4").reshape(shape).copy())


def train(model, loss_of):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(STEPS):
        loss = loss_of(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    x = floats("inputs.f32", 16, 1, 32, 32)
    noise = floats("vae_noise.f32", 16, 4, 4, 4)

    ae = ConvAutoencoder([1, 8, 16, 32, 4])
    ae.load_state_dict(torch.load(os.path.join(SOURCE, "ae_state_dict.pt")))
    ae_losses = train(ae, lambda m: torch.mean(torch.sum((m(x) - x) ** 2, dim=[1, 2, 3])))
    torch.save(ae.state_dict(), os.path.join(OUT, "ae_after.pt"))

    def vae_loss(m):
        x_pred, mu, sigma = m(x, noise)
        rec = torch.sum((x_pred - x) ** 2, dim=[1, 2, 3])
        sigma2 = sigma ** 2
        minus_kl = -0.5 * torch.sum(sigma2 + mu ** 2 - torch.log(sigma2) - 1.0, dim=[1, 2, 3])
        return torch.mean(rec - minus_kl)

    vae = VAE()
    vae.load_state_dict(torch.load(os.path.join(SOURCE, "vae_state_dict.pt")))
    vae_losses = train(vae, vae_loss)
    torch.save(vae.state_dict(), os.path.join(OUT, "vae_after.pt"))

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({
            "about": f"{STEPS} Adam(1e-3) steps in train mode on Fixtures/pytorch-vae's 16 inputs from its AE and VAE weights, "
                     f"the VAE with vae_noise.f32 at every step; PyTorch {torch.__version__}, 1 thread. Written by python/make_steps_fixture.py.",
            "steps": STEPS,
            "ae_losses": ae_losses,
            "vae_losses": vae_losses,
        }, f, indent=1)
    print("AE", ae_losses[0], "->", ae_losses[-1], "; VAE", vae_losses[0], "->", vae_losses[-1])


if __name__ == "__main__":
    main()
