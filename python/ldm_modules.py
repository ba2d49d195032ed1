"""PyTorch twins of the Latent Diffusion Series modules, so weights exported by the C# port load in PyTorch.

The state_dict keys match ours name for name (`layers.0.weight`, `encoder.layers.0.0._conv.weight`, ...), so a file
written by `ModelWeights.Save(model, "x.pt")` (or `ldm ... --out x.pt`) loads strictly:

    import torch
    from ldm_modules import Classifier
    model = Classifier()
    model.load_state_dict(torch.load(path))
    model.eval()

Only torch is needed (written against PyTorch 1.13). Organised by part of the series; part 2's classes are the
post's code verbatim (shared/series/parts-2-3.md, section 2.1), so are part 3's embedding, conditioned block, schedules
and training step (section 3.1-3.3, with the posts' slips fixed). `python3 ldm_modules.py` prints parameter counts.
"""
import math

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

    def __init__(self, features=(1, 8, 16, 32), latent_channels=4, head_channels=0, sigma='raw'):
        super(VAE, self).__init__()
        features = list(features)
        self.latent_channels = latent_channels
        self.sigma = sigma
        last = head_channels if head_channels > 0 else 2 * latent_channels
        self.encoder = ConvEncoder(features + [last])                     # (B, 1, 32, 32) -> (B, 2C or head, 4, 4)
        if head_channels > 0:                                             # our log-variance VAE: a 1x1 conv head, no norm
            self.head = torch.nn.Conv2d(head_channels, 2 * latent_channels, 1)
        self.decoder = ConvDecoder([latent_channels] + features[::-1])    # (B, C, 4, 4) -> (B, 1, 32, 32), unbounded

    def encode(self, x):
        """(B, 1, 32, 32) -> (mu, sigma), each (B, latent_channels, 4, 4); sigma='logvar' reads the second half as log sigma^2."""
        mu_sigma = self.encoder(x)
        if hasattr(self, 'head'):
            mu_sigma = self.head(mu_sigma)
        mu, second = mu_sigma[:, :self.latent_channels, :, :], mu_sigma[:, self.latent_channels:, :, :]
        return mu, (second if self.sigma == 'raw' else torch.exp(0.5 * second))

    def kl(self, mu, sigma):
        """KL(N(mu, sigma^2) || N(0, I)) per image (B,), as Vae.Kl: raw sigma takes log sigma^2 directly (no epsilon)."""
        sigma2 = sigma.square()
        log_sigma2 = torch.log(sigma2) if self.sigma == 'raw' else 2.0 * torch.log(sigma)
        return 0.5 * (sigma2 + mu.square() - log_sigma2 - 1.0).sum(dim=(1, 2, 3))

    def decode(self, z):
        """(B, latent_channels, 4, 4) -> (B, 1, 32, 32); the post clips to [0, 1] only when showing samples."""
        return self.decoder(z)

    def forward(self, x, s=None):
        """The post's training step up to the loss: z = s * sigma + mu with s ~ N(0, 1) unless given. -> (x_pred, mu, sigma)."""
        mu, sigma = self.encode(x)
        if s is None:
            s = torch.normal(0, 1, size=mu.shape, device=mu.device)
        return self.decode(s * sigma + mu), mu, sigma


# ---------------------------------------------------------------------------------------------------------------------
# Part 3: latent diffusion (UNet with widths (64, 128): 417284 parameters)
# ---------------------------------------------------------------------------------------------------------------------

# --- from the post (section 3.1), two slips fixed: the factors are computed on the CPU and follow the input's device
# (the post used a global `device`); they stay a plain attribute, not a buffer, so they are not in the state_dict ---
class SinusoidalPositionalEmbedding(torch.nn.Module):
    def __init__(self, dim=16, scale=1000):
        super().__init__()
        half_dim = dim // 2
        emb_scale = math.log(scale) / (half_dim - 1)
        self.emb_factor = torch.exp(
            -emb_scale * torch.arange(half_dim)
        )

    def forward(self, time):
        embeddings = time[:, None] * self.emb_factor.to(time.device)
        return torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)

# ... and `super(UnetConvBlock, self)` (the notebook's old class name) made `super()`
class TimeEmbeddingConvBlock(torch.nn.Module):
    def __init__(self, fin, fout, tin, *args, **kwargs):
        super().__init__()
        self._conv = torch.nn.Conv2d(fin, fout, *args, **kwargs)
        self._norm = torch.nn.InstanceNorm2d(fout)
        self._relu = torch.nn.LeakyReLU()
        self._emb_linear = torch.nn.Linear(tin, fout)

    def forward(self, x, t_emb):
        t_emb = self._emb_linear(self._relu(t_emb))
        x = self._conv(x)
        return self._relu(self._norm(x) + t_emb[:,:,None,None])
# --- end of the post's code ---


class UNet(torch.nn.Module):
    """Our latent UNet (the post does not publish its own): the twin of src/LatentDiffusion/Models/UNet.cs, same keys.

    down.{i}: level i (after a 2x2 max pool when i > 0), two blocks widths[i-1 or input] -> widths[i] -> widths[i];
    up.{k}: for i = len(widths) - 2 down to 0, nearest 2x upsampling, concatenation with level i's output, two blocks
    widths[i+1] + widths[i] -> widths[i] -> widths[i]; out: 1x1 conv widths[0] -> latent_channels. Every block gets
    the sinusoidal embedding of the raw integer t. (B, 4, 4, 4), (B,) int64 -> (B, 4, 4, 4).
    """

    def __init__(self, latent_channels=4, widths=(64, 128), emb_dim=16, emb_scale=1000, input_skip=False, classes=0):
        super().__init__()
        widths = list(widths)
        self.classes = classes
        self.input_skip = input_skip
        self.embedding = SinusoidalPositionalEmbedding(emb_dim, emb_scale)      # no parameters, not in state_dict

        def block(fin, fout):
            return TimeEmbeddingConvBlock(fin, fout, emb_dim, 3, padding='same')

        self.down = torch.nn.ModuleList([
            torch.nn.ModuleList([block(latent_channels if i == 0 else widths[i - 1], w), block(w, w)])
            for i, w in enumerate(widths)
        ])
        self.up = torch.nn.ModuleList([
            torch.nn.ModuleList([block(widths[i + 1] + widths[i], widths[i]), block(widths[i], widths[i])])
            for i in range(len(widths) - 2, -1, -1)
        ])
        if input_skip:                                                            # x_t * (1 + Linear(t_emb)) beside the features
            self.skip = torch.nn.Linear(emb_dim, latent_channels)
        self.out = torch.nn.Conv2d(widths[0] + (latent_channels if input_skip else 0), latent_channels, 1)
        if classes > 0:                                                           # labels 0..C-1, then "no label" at C
            self.label = torch.nn.Embedding(classes + 1, emb_dim)

    def forward(self, x, t, labels=None):
        emb = self.embedding(t)                                                   # (B, emb_dim)
        if self.classes > 0:
            y = labels if labels is not None else torch.full((x.shape[0],), self.classes, dtype=torch.long, device=x.device)
            emb = emb + self.label(y)                                             # (B, emb_dim)
        elif labels is not None:
            raise ValueError('an unconditional UNet takes no labels')
        skips = []
        h = x
        for i, level in enumerate(self.down):
            if i > 0:
                h = torch.nn.functional.max_pool2d(h, 2)                          # (B, w[i-1], H/2, W/2)
            for b in level:
                h = b(h, emb)
            skips.append(h)                                                       # (B, w[i], ., .)
        for k, level in enumerate(self.up):
            skip = skips[len(skips) - 2 - k]
            h = torch.nn.functional.interpolate(h, scale_factor=2, mode='nearest')
            h = torch.cat([h, skip], 1)                                           # (B, w[i+1] + w[i], ., .)
            for b in level:
                h = b(h, emb)
        if self.input_skip:
            gain = (1.0 + self.skip(emb))[:, :, None, None]                      # (B, C, 1, 1)
            h = torch.cat([h, x * gain], 1)                                       # (B, w[0] + C, 4, 4)
        return self.out(h)


# --- verbatim from the post (section 3.2) ---
def make_cosine_schedule(num_timesteps, s=0.008):
    t = torch.arange(num_timesteps+1)
    x = 0.5 * (t / (num_timesteps+1) + s) / (1.0 + s) * math.pi
    alpha_prod = torch.cos(x)**2
    alpha_prod = alpha_prod / alpha_prod[0]
    return alpha_prod[1:]

def make_linear_schedule(num_timesteps=1000, start=1e-4, end=2e-2):
    betas = torch.linspace(start, end, num_timesteps)
    alpha_prod = torch.cumprod(1.0 - betas, dim=-1)
    return alpha_prod
# --- end of the post's code ---


def do_step(model, x_0, t, alpha_prod, eps=None):
    """The post's do_step (section 3.3), with its globals made arguments: alpha_prod (T,), and eps drawn as the post
    does (torch.randn of x_0's shape) unless given. t: (B,) int64 in 1..T. Returns the mean squared error."""
    if eps is None:
        eps = torch.randn(x_0.shape, device=x_0.device)
    ap = alpha_prod[t-1].view(-1,1,1,1)
    x_t = torch.sqrt(ap) * x_0 + torch.sqrt(1.0 - ap) * eps

    eps_theta = model(x_t, t)
    loss = torch.nn.functional.mse_loss(eps, eps_theta)

    return loss


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


if __name__ == '__main__':
    checks = [
        ('Classifier', Classifier(), 16554, (2, 1, 32, 32), (2, 10)),
        ('ConvAutoencoder([1, 8, 16, 32, 4])', ConvAutoencoder([1, 8, 16, 32, 4]), 51357, (2, 1, 32, 32), (2, 1, 32, 32)),
        ('VAE()', VAE(), 52965, (2, 1, 32, 32), (2, 1, 32, 32)),
        ('UNet(widths=(64, 128))', UNet(widths=(64, 128)), 417284, (2, 4, 4, 4), (2, 4, 4, 4)),
    ]
    ok = True
    for name, model, expected, input_shape, output_shape in checks:
        model.eval()
        with torch.no_grad():
            out = model(torch.zeros(input_shape), torch.tensor([1, 1000])) if isinstance(model, UNet) else model(torch.zeros(input_shape))
        out = out[0] if isinstance(out, tuple) else out
        count = parameter_count(model)
        good = count == expected and tuple(out.shape) == output_shape
        ok = ok and good
        print(f'{name}: {count} parameters (expected {expected}), output {tuple(out.shape)} {"ok" if good else "MISMATCH"}')
    raise SystemExit(0 if ok else 1)
