"""PyTorch twins of the Latent Diffusion Series modules, so weights exported by the C# port load in PyTorch.

The state_dict keys match ours name for name (`layers.0.weight`, `encoder.layers.0.0._conv.weight`, ...), so a file
written by `ModelWeights.Save(model, "x.pt")` (or `ldm ... --out x.pt`) loads strictly:

    import torch
    from ldm_modules import Classifier
    model = Classifier()
    model.load_state_dict(torch.load(path))
    model.eval()

Only torch is needed (written against PyTorch 1.13). Organised by part of the series; part 2's classes are the
post's code verbatim (shared/series/parts-2-3.md, section 2.1). `python3 ldm_modules.py` prints parameter counts.
"""
import torch


# ---------------------------------------------------------------------------------------------------------------------
# Part 1: MNIST classifier (16554 parameters)
# ---------------------------------------------------------------------------------------------------------------------

class Classifier(torch.nn.Module):
    """Part 1's classifier; the indices of `layers` are the state_dict's (layers.0, .3, .6, .11, .13, .15)."""

    def __init__(self):
        super(Classifier, self).__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding='same'),     # 0   (B, 8, 32, 32)
            torch.nn.ReLU(),                              # 1
            torch.nn.MaxPool2d(2, 2),                     # 2   (B, 8, 16, 16)
            torch.nn.Conv2d(8, 16, 3, padding='same'),    # 3   (B, 16, 16, 16)
            torch.nn.ReLU(),                              # 4
            torch.nn.MaxPool2d(2, 2),                     # 5   (B, 16, 8, 8)
            torch.nn.Conv2d(16, 32, 3, padding='same'),   # 6   (B, 32, 8, 8)
            torch.nn.ReLU(),                              # 7
            torch.nn.AvgPool2d(4, 4),                     # 8   (B, 32, 2, 2)
            torch.nn.Flatten(),                           # 9   (B, 128)
            torch.nn.Dropout(0.5),                        # 10
            torch.nn.Linear(128, 64),                     # 11
            torch.nn.ReLU(),                              # 12
            torch.nn.Linear(64, 32),                      # 13
            torch.nn.ReLU(),                              # 14
            torch.nn.Linear(32, 10),                      # 15  (B, 10) logits
        )

    def forward(self, x):
        return self.layers(x)


# ---------------------------------------------------------------------------------------------------------------------
# Part 2: autoencoder (features [1, 8, 16, 32, 4]: 51357 parameters) and VAE (52965 parameters)
# ---------------------------------------------------------------------------------------------------------------------

# --- verbatim from the post (section 2.1) ---
class ConvBlock(torch.nn.Module):
    def __init__(self, fin, fout, *args, **kwargs):
        super(ConvBlock, self).__init__()
        self._conv = torch.nn.Conv2d(fin, fout, *args, **kwargs)
        self._norm = torch.nn.BatchNorm2d(fout)
        self._relu = torch.nn.LeakyReLU()

    def forward(self, x):
        return self._relu(self._norm(self._conv(x)))

class ConvEncoder(torch.nn.Module):
    def __init__(self, features):
        super(ConvEncoder, self).__init__()

        layers   = []
        for i in range(len(features)-1):
            fi = features[i]
            fo = features[i+1]
            if i > 0:
                layers.append(torch.nn.Sequential(
                    torch.nn.MaxPool2d(2),
                    ConvBlock(fi, fo, 3, padding='same'),
                    ConvBlock(fo, fo, 3, padding='same'),
                ))
            else:
                layers.append(torch.nn.Sequential(
                    ConvBlock(fi, fo, 3, padding='same'),
                    ConvBlock(fo, fo, 3, padding='same'),
                ))
        self.layers = torch.nn.ModuleList(layers)


    def forward(self, x):
        y = torch.clone(x)
        for layer in self.layers:
            y = layer(y)
        return y

class ConvDecoder(torch.nn.Module):
    def __init__(self, features):
        super(ConvDecoder, self).__init__()

        layers = []
        for i in range(len(features)-1):
            layer = []

            fi = features[i]
            fo = features[i+1]

            if i > 0:
                layer += [
                    torch.nn.Upsample(scale_factor=2),
                    ConvBlock(fi, fi, 3, padding='same'),
                ]

            if i < len(features)-2:
                layer += [
                    ConvBlock(fi, fi, 3, padding='same'),
                    ConvBlock(fi, fo, 3, padding='same'),
                ]
            else:
                layer += [
                    ConvBlock(fi, fi, 3, padding='same'),
                    torch.nn.Conv2d(fi, fo, 1, padding='same'),
                ]


            layers.append(torch.nn.Sequential(*layer))

        self.layers = torch.nn.ModuleList(layers)


    def forward(self, x):
        y = torch.clone(x)
        for layer in self.layers:
            y = layer(y)
        return y

class ConvAutoencoder(torch.nn.Module):
    def __init__(self, features):
        super(ConvAutoencoder, self).__init__()

        self.encoder = ConvEncoder(features)
        self.decoder = ConvDecoder(features[::-1])

    def forward(self, x):
        return self.decoder(self.encoder(x))
# --- end of the post's code ---


class VAE(torch.nn.Module):
    """Part 2's VAE: the post's `encoder`/`decoder` pair (section 2.2) as one module, keys `encoder.*`, `decoder.*`.

    The encoder's last ConvBlock gives 2 * latent_channels channels: the first half is mu, the second sigma, used
    directly as the standard deviation (no log-variance; its sign may be negative), as in the post.
    """

    def __init__(self, features=(1, 8, 16, 32), latent_channels=4):
        super(VAE, self).__init__()
        features = list(features)
        self.latent_channels = latent_channels
        self.encoder = ConvEncoder(features + [2 * latent_channels])      # (B, 1, 32, 32) -> (B, 2C, 4, 4)
        self.decoder = ConvDecoder([latent_channels] + features[::-1])    # (B, C, 4, 4) -> (B, 1, 32, 32), unbounded

    def encode(self, x):
        """(B, 1, 32, 32) -> (mu, sigma), each (B, latent_channels, 4, 4)."""
        mu_sigma = self.encoder(x)
        return mu_sigma[:, :self.latent_channels, :, :], mu_sigma[:, self.latent_channels:, :, :]

    def decode(self, z):
        """(B, latent_channels, 4, 4) -> (B, 1, 32, 32); the post clips to [0, 1] only when showing samples."""
        return self.decoder(z)

    def forward(self, x, s=None):
        """The post's training step up to the loss: z = s * sigma + mu with s ~ N(0, 1) unless given. -> (x_pred, mu, sigma)."""
        mu, sigma = self.encode(x)
        if s is None:
            s = torch.normal(0, 1, size=mu.shape, device=mu.device)
        return self.decode(s * sigma + mu), mu, sigma


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


if __name__ == '__main__':
    checks = [
        ('Classifier', Classifier(), 16554, (2, 1, 32, 32), (2, 10)),
        ('ConvAutoencoder([1, 8, 16, 32, 4])', ConvAutoencoder([1, 8, 16, 32, 4]), 51357, (2, 1, 32, 32), (2, 1, 32, 32)),
        ('VAE()', VAE(), 52965, (2, 1, 32, 32), (2, 1, 32, 32)),
    ]
    ok = True
    for name, model, expected, input_shape, output_shape in checks:
        model.eval()
        with torch.no_grad():
            out = model(torch.zeros(input_shape))
        out = out[0] if isinstance(out, tuple) else out
        count = parameter_count(model)
        good = count == expected and tuple(out.shape) == output_shape
        ok = ok and good
        print(f'{name}: {count} parameters (expected {expected}), output {tuple(out.shape)} {"ok" if good else "MISMATCH"}')
    raise SystemExit(0 if ok else 1)
