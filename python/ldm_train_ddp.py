"""Trains a bundle made by `ldm distributed prepare` on one or many processes with PyTorch's DistributedDataParallel.

    torchrun --nproc_per_node=2 ldm_train_ddp.py BUNDLE                       # one machine, 2 processes (gloo on CPU)
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29400 ldm_train_ddp.py BUNDLE

The recipe is our Trainer's (src/LatentDiffusion/Training/Trainer.cs): Adam, the config's learning-rate schedule
(constant, or linear warm-up then half a cosine down to a fraction of the peak), an EMA of the weights updated after
every step (BatchNorm statistics recomputed for the average before it is validated or saved), validation every
LogEvery epochs on rank 0, the task's loss (classifier cross-entropy, the VAE's summed squared error + weighted KL,
ε- or α-deblending MSE on scaled latents). Weights start from the bundle's initial.safetensors, made by C#.

The world size changes only the order of floating-point sums, not the run:
- data order: each epoch one permutation from a generator seeded with seed + epoch (as DistributedSampler(shuffle=True)
  draws it); global batch b is its slice [bB, (b+1)B) and rank r takes every W-th example of it from position r — for
  B and N divisible by W exactly what DistributedSampler hands rank r, but never padded with duplicates;
- every random draw of the loss (t, ε, α, label drops, Dropout masks) is drawn for the whole global batch from a
  generator seeded with (seed, step), and each rank keeps its examples' rows;
- each rank's loss is its examples' summed loss times W / (global batch size), so DDP's gradient average is the
  gradient of the global batch's mean loss even when the last batch splits unevenly.
BatchNorm layers (the VAE) still see per-rank batch statistics: --sync-bn replaces them by a CPU/GPU BatchNorm whose
statistics are all-reduced over the ranks (torch's SyncBatchNorm is CUDA-only in 1.13).

Checkpoints (run/checkpoint.pt, atomic) every --checkpoint-steps steps and at every epoch the config checkpoints; a
rerun of the same command resumes from it (the draws are keyed by step, so it continues as if never stopped). At the
end rank 0 writes run/model.safetensors (+ model.raw.safetensors with an EMA), run/history.json and run/finished.json,
which `ldm distributed import BUNDLE --out DIR` takes home. Needs only torch (>= 1.13) and numpy.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldm_modules  # noqa: E402

BUNDLE_FORMAT = 'ldm-distributed-bundle'
BUNDLE_VERSION = 1
RUN = 'run'


# ---------------------------------------------------------------------------------------------------------------------
# Files: safetensors by hand (no safetensors package needed), atomic writes
# ---------------------------------------------------------------------------------------------------------------------

NUMPY_OF = {'F64': np.float64, 'F32': np.float32, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8}
NAME_OF = {np.dtype(v).str: k for k, v in NUMPY_OF.items()}


def read_safetensors(path):
    """name -> numpy array, and the header's __metadata__."""
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop('__metadata__', {})
    base = 8 + length
    arrays = {}
    for name, entry in header.items():
        start, end = entry['data_offsets']
        arrays[name] = np.frombuffer(data[base + start:base + end], dtype=NUMPY_OF[entry['dtype']]).reshape(entry['shape'])
    return arrays, metadata


def atomic_write(path, write):
    """Writes through write(file) to a temporary file beside path, fsyncs it and renames it over path."""
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'wb') as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_safetensors(path, tensors, metadata):
    """The format our Safetensors.cs reads: sorted names, a space-padded JSON header, the data's SHA-256 in the metadata."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu()
        array = (t.float() if t.dtype == torch.float64 else t).contiguous().numpy()     # not np.ascontiguousarray: it makes 0-d arrays 1-d
        blob = array.astype(array.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': NAME_OF[array.dtype.str], 'shape': list(array.shape), 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    sha = hashlib.sha256()
    for blob in blobs:
        sha.update(blob)
    header['__metadata__'] = dict(metadata, **{'ldm.data_sha256': sha.hexdigest()})
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)

    def write(f):
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    atomic_write(path, write)


def write_json(path, value):
    atomic_write(path, lambda f: f.write(json.dumps(value, indent=2).encode()))


# ---------------------------------------------------------------------------------------------------------------------
# The tasks: model, per-example loss on a batch with the global batch's draws, validation
# ---------------------------------------------------------------------------------------------------------------------

class BatchDropout(torch.nn.Module):
    """Dropout whose keep-mask the loop sets for each batch, drawn for the global batch (no parameters, same keys)."""

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.mask = None

    def forward(self, x):
        if not self.training:
            return x
        return x * self.mask.to(x.dtype) / (1.0 - self.p)


class ClassifierTask:
    """Part 1: cross-entropy of the logits; validation loss and accuracy on the test set."""
    parts = []

    def __init__(self, spec, data):
        self.x_train, self.y_train = images(data['x_train']), torch.from_numpy(data['y_train'].astype(np.int64))
        self.x_val, self.y_val = images(data['x_test']), torch.from_numpy(data['y_test'].astype(np.int64))

    def create_model(self):
        model = ldm_modules.Classifier()
        model.layers[10] = BatchDropout(0.5)                                  # (B, 128) mask per global batch
        return model

    def draw(self, generator, size):
        return {'keep': torch.rand((size, 128), generator=generator) >= 0.5}

    def losses(self, model, idx, draws):
        for m in model.modules():
            if isinstance(m, BatchDropout):
                m.mask = draws['keep']
        logits = model(self.x_train[idx])
        return torch.nn.functional.cross_entropy(logits, self.y_train[idx], reduction='none'), {}

    def validate(self, model, batch_size, generator):
        loss, correct, n = 0.0, 0, self.x_val.shape[0]
        for s in range(0, n, batch_size):
            logits = model(self.x_val[s:s + batch_size])
            y = self.y_val[s:s + batch_size]
            loss += torch.nn.functional.cross_entropy(logits, y, reduction='sum').double().item()
            correct += (logits.argmax(1) == y).sum().item()
        return loss / n, [('val_accuracy', correct / n)]


class VaeTask:
    """Part 2: per image the summed squared error of decode(mu + sigma * eps) plus the weighted KL."""
    parts = ['train_rec', 'train_kl']

    def __init__(self, spec, data):
        m = spec['model']
        self.config = m
        self.latent = (m['LatentChannels'], 4, 4)
        self.x_train, self.x_val = images(data['x_train']), images(data['x_test'])
        self.y_train = None

    def create_model(self):
        m = self.config
        return ldm_modules.VAE(features=tuple(m['Features']), latent_channels=m['LatentChannels'], head_channels=m['HeadChannels'],
                               sigma='raw' if m['Sigma'] == 'Raw' else 'logvar')

    def draw(self, generator, size):
        return {'eps': torch.randn((size,) + self.latent, generator=generator)}

    def terms(self, model, x, eps):
        """Per-image squared error and KL (B,), (B,); through model's forward, so DDP sees the pass."""
        reconstruction, mu, sigma = model(x, eps)
        vae = model.module if hasattr(model, 'module') else model
        return (reconstruction - x).square().sum(dim=(1, 2, 3)), vae.kl(mu, sigma)

    def losses(self, model, idx, draws):
        rec, kl = self.terms(model, self.x_train[idx], draws['eps'])
        return rec + self.config['KlWeight'] * kl, {'train_rec': rec, 'train_kl': kl}

    def validate(self, model, batch_size, generator):
        rec, kl, n = 0.0, 0.0, self.x_val.shape[0]
        for s in range(0, n, batch_size):
            x = self.x_val[s:s + batch_size]
            r, k = self.terms(model, x, torch.randn((x.shape[0],) + self.latent, generator=generator).to(x.device))
            rec += r.double().sum().item()
            kl += k.double().sum().item()
        rec, kl = rec / n, kl / n
        return rec + self.config['KlWeight'] * kl, [('val_rec', rec), ('val_kl', kl)]


class DiffusionTask:
    """Part 3: epsilon-prediction MSE with t ~ U{1..T}, or the follow-up's x1 - x0 MSE with alpha ~ U[0, 1), on scaled latents."""
    parts = []

    def __init__(self, spec, data):
        c = spec['model']
        self.config, self.unet = c, c['UNet']
        self.scale = c['LatentScale']
        self.x_train = torch.from_numpy(np.array(data['x_train'], dtype=np.float32)) * self.scale
        self.x_val = torch.from_numpy(np.array(data['x_test'], dtype=np.float32)) * self.scale
        self.conditional = self.unet['Classes'] > 0
        self.y_train = torch.from_numpy(data['y_train'].astype(np.int64)) if self.conditional else None
        self.y_val = torch.from_numpy(data['y_test'].astype(np.int64)) if self.conditional else None
        self.alpha_prod = ldm_modules.make_linear_schedule(c['Steps'], c['BetaStart'], c['BetaEnd'])
        self.shape = tuple(self.x_train.shape[1:])

    def create_model(self):
        u = self.unet
        return ldm_modules.UNet(latent_channels=u['LatentChannels'], widths=tuple(u['Widths']), emb_dim=u['EmbeddingDim'],
                                emb_scale=u['EmbeddingScale'], input_skip=u['InputSkip'], classes=u['Classes'])

    def draw(self, generator, size):
        d = {}
        if self.conditional:                                                   # drawn first, as DiffusionTask.cs
            d['drop'] = torch.rand(size, generator=generator) < self.config['LabelDropout']
        if self.config['Objective'] == 'AlphaDeblending':
            d['x1'] = torch.randn((size,) + self.shape, generator=generator)
            d['alpha'] = torch.rand(size, generator=generator)
        else:
            d['t'] = torch.randint(1, self.config['Steps'] + 1, (size,), generator=generator)
            d['eps'] = torch.randn((size,) + self.shape, generator=generator)
        return d

    def step(self, model, x0, labels, d):
        """Per-example MSE (B,)."""
        y = None
        if self.conditional:
            y = torch.where(d['drop'], torch.full_like(labels, self.unet['Classes']), labels)
        if self.config['Objective'] == 'AlphaDeblending':
            a = d['alpha'].view(-1, 1, 1, 1)
            x_alpha = x0 + (d['x1'] - x0) * a
            predicted = model(x_alpha, d['alpha'] * self.config['AlphaScale'], y) if y is not None else model(x_alpha, d['alpha'] * self.config['AlphaScale'])
            target = d['x1'] - x0
        else:
            ap = self.alpha_prod[d['t'] - 1].view(-1, 1, 1, 1)
            x_t = torch.sqrt(ap) * x0 + torch.sqrt(1.0 - ap) * d['eps']
            predicted = model(x_t, d['t'], y) if y is not None else model(x_t, d['t'])
            target = d['eps']
        return (predicted - target).square().flatten(1).mean(1)

    def losses(self, model, idx, draws):
        return self.step(model, self.x_train[idx], self.y_train[idx] if self.conditional else None, draws), {}

    def validate(self, model, batch_size, generator):
        total, batches, n = 0.0, 0, self.x_val.shape[0]
        for s in range(0, n, batch_size):
            x0 = self.x_val[s:s + batch_size]
            labels = self.y_val[s:s + batch_size] if self.conditional else None
            draws = {k: v.to(x0.device) for k, v in self.draw(generator, x0.shape[0]).items()}
            total += self.step(model, x0, labels, draws).mean().item()
            batches += 1
        return total / batches, []


TASKS = {'classifier': ClassifierTask, 'vae': VaeTask, 'diffusion': DiffusionTask}


def move_task(task, device, dtype):
    """The task's data (and schedule) onto the training device, floats in dtype; MNIST fits on any GPU."""
    for name, value in vars(task).items():
        if isinstance(value, torch.Tensor):
            setattr(task, name, value.to(device, dtype) if value.is_floating_point() else value.to(device))


def images(pixels):
    """(N, 1, 32, 32) uint8, already padded -> float32 in [0, 1], as Preprocess.ToModelInput."""
    return torch.from_numpy(np.array(pixels, dtype=np.float32)) / 255.0


# ---------------------------------------------------------------------------------------------------------------------
# BatchNorm over all ranks on any device (torch 1.13's SyncBatchNorm is CUDA-only)
# ---------------------------------------------------------------------------------------------------------------------

class GlobalBatchNorm2d(torch.nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are the global batch's: per-channel sums all-reduced (with gradients)."""

    def forward(self, x):
        if not self.training or not dist.is_initialized():
            return super().forward(x)
        import torch.distributed.nn.functional as dnn
        c = x.shape[1]
        count = torch.tensor([float(x.numel() // c)], dtype=x.dtype)
        stats = torch.cat([x.sum(dim=(0, 2, 3)), x.square().sum(dim=(0, 2, 3)), count])
        stats = dnn.all_reduce(stats)
        n = stats[-1]
        mean = stats[:c] / n
        var = stats[c:2 * c] / n - mean.square()                                 # biased, as BatchNorm normalises with
        with torch.no_grad():
            self.num_batches_tracked += 1
            m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
            self.running_var.mul_(1 - m).add_(var.detach() * n / (n - 1), alpha=m)
        y = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)
        return y * self.weight[None, :, None, None] + self.bias[None, :, None, None]


def globalise_batch_norm(module):
    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            g = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats)
            g.load_state_dict(child.state_dict())
            setattr(module, name, g)
        else:
            globalise_batch_norm(child)
    return module


# ---------------------------------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------------------------------

def fail(message):
    """One line from rank 0 (every rank meets the same problem), exit status 1 from all."""
    if os.environ.get('RANK', '0') == '0':
        print(f'ldm_train_ddp.py: error: {message}', file=sys.stderr, flush=True)
    sys.exit(1)


def learning_rate(config, step, total):
    """TrainingConfig.LearningRateAt."""
    if config['Schedule'] == 'Constant':
        return config['LearningRate']
    warmup = config['WarmupSteps']
    if step < warmup:
        return config['LearningRate'] * (step + 1) / warmup
    progress = min(max((step - warmup) / max(1, total - warmup), 0.0), 1.0)
    f = config['MinLearningRateFraction']
    return config['LearningRate'] * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * progress)))


def step_generator(seed, step):
    return torch.Generator().manual_seed((seed * 1_000_003 + step * 7_919 + 12_345) % (2 ** 63))


def permutation(seed, epoch, n):
    g = torch.Generator().manual_seed(seed + epoch)                          # DistributedSampler's seeding
    return torch.randperm(n, generator=g)


def recompute_batch_norm(task, model, batch_size, seed, batches=100):
    """AveragedBatchNorm.Recompute: cumulative statistics of up to 100 training batches, in train mode, no_grad."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was = model.training
    model.train()
    g = torch.Generator().manual_seed((seed * 1_000_003 + 0x5EEDB47C) % (2 ** 63))
    n = task.x_train.shape[0]
    order = torch.randperm(n, generator=g)
    with torch.no_grad():
        for b in range(min(batches, (n + batch_size - 1) // batch_size)):
            idx = order[b * batch_size:(b + 1) * batch_size]
            task.losses(model, idx.to(task.x_train.device), {k: v.to(task.x_train.device) for k, v in task.draw(g, idx.shape[0]).items()})
    for m, mo in zip(norms, momenta):
        m.momentum = mo
    model.train(was)


def plain(model):
    """A copy with plain BatchNorm2d layers, for validation and saving (GlobalBatchNorm2d only matters in training)."""
    copy_ = copy.deepcopy(model)
    for name, m in list(copy_.named_modules()):
        for cname, child in list(m.named_children()):
            if isinstance(child, GlobalBatchNorm2d):
                b = torch.nn.BatchNorm2d(child.num_features, child.eps, child.momentum)
                b.load_state_dict(child.state_dict())
                setattr(m, cname, b)
    return copy_


def final_model(task, spec, live, ema):
    """The model to save: the EMA with its own BatchNorm statistics, or the live weights; eval mode."""
    config = spec['training']
    chosen = plain(ema if ema is not None else live)
    if ema is not None:
        recompute_batch_norm(task, chosen, config['BatchSize'], config['Seed'])
    chosen.eval()
    return chosen


def validate(task, spec, model, epoch):
    config = spec['training']
    model.eval()
    with torch.no_grad():
        g = torch.Generator().manual_seed((config['Seed'] * 1_000_003 + epoch) % (2 ** 63))
        return task.validate(model, config['EvalBatchSize'], g)


def metadata(spec):
    return {'format': 'pt', 'architecture': spec['architecture'], 'epochs': str(spec['training']['Epochs']),
            'seed': str(spec['training']['Seed']), **({'config': spec['settings']} if spec.get('settings') else {}),
            'trained_by': 'ldm_train_ddp.py'}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('bundle')
    p.add_argument('--checkpoint-steps', type=int, default=0, help='also checkpoint every N optimizer steps (0: only at the config\'s epochs)')
    p.add_argument('--sync-bn', action='store_true', help='BatchNorm statistics over the global batch (all-reduced per layer)')
    p.add_argument('--max-steps', type=int, default=0, help='stop (with a checkpoint) after this many steps in total; a rerun without it continues')
    p.add_argument('--float64', action='store_true', help='train in float64 (to check that world sizes differ only by rounding); saves float32')
    p.add_argument('--run', default=None, help='where checkpoints and results go (default BUNDLE/run)')
    args = p.parse_args()

    spec_path = os.path.join(args.bundle, 'bundle.json')
    if not os.path.exists(spec_path):
        fail(f'{spec_path}: not found; make a bundle with ldm distributed prepare')
    with open(spec_path) as f:
        spec = json.load(f)
    if spec.get('format') != BUNDLE_FORMAT or spec.get('version') != BUNDLE_VERSION:
        fail(f'{spec_path}: not a version-{BUNDLE_VERSION} {BUNDLE_FORMAT} (format {spec.get("format")!r}, version {spec.get("version")!r})')

    cuda = torch.cuda.is_available()
    dist.init_process_group('nccl' if cuda else 'gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device(f'cuda:{local_rank}') if cuda else torch.device('cpu')
    if cuda:
        torch.cuda.set_device(device)
    config = spec['training']
    batch = config['BatchSize']
    if batch % world != 0:
        fail(f'{spec_path}: batch size {batch} is not divisible by the world size {world}; use a number of processes that divides it')
    torch.use_deterministic_algorithms(True, warn_only=True)

    run = args.run or os.path.join(args.bundle, RUN)
    if rank == 0:
        os.makedirs(run, exist_ok=True)
    data, _ = read_safetensors(os.path.join(args.bundle, spec['data']))
    task = TASKS[spec['kind'].lower()](spec, data)
    dtype = torch.float64 if args.float64 else torch.float32
    torch.set_default_dtype(dtype)                                            # the draws' dtype too
    move_task(task, device, dtype)
    model = task.create_model()
    initial, _ = read_safetensors(os.path.join(args.bundle, spec['initial']))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in initial.items()}, strict=True)
    model.to(dtype)
    if args.sync_bn:
        globalise_batch_norm(model)
    model.to(device)
    ema = copy.deepcopy(model) if config['EmaDecay'] > 0 else None
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=config['LearningRate'])

    n = task.x_train.shape[0]
    batches = (n + batch - 1) // batch
    total = batches * config['Epochs']
    checkpoint_path = os.path.join(run, 'checkpoint.pt')
    step, history, step_losses, seconds = 0, [], [], 0.0
    sums = {'loss': 0.0, **{name: 0.0 for name in task.parts}}
    dist.barrier()
    if os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path, map_location='cpu')
        if state['bundle_id'] != spec['id']:
            fail(f'{checkpoint_path}: made for another bundle; remove {run} to start afresh')
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        if ema is not None:
            ema.load_state_dict(state['ema'])
        step, history, step_losses, seconds, sums = state['step'], state['history'], state['step_losses'], state['seconds'], state['sums']
        if rank == 0:
            print(f'resuming at step {step} of {total}', flush=True)
    if step >= total and os.path.exists(os.path.join(run, 'finished.json')):
        if rank == 0:
            print(f'{run}: already finished ({total} steps)')
        dist.destroy_process_group()
        return

    ema_pairs = None
    if ema is not None:
        ema_pairs = (list(zip(ema.parameters(), model.parameters())), list(zip(ema.buffers(), model.buffers())))

    def save_checkpoint():
        if rank == 0:
            state = {'bundle_id': spec['id'], 'step': step, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                     'ema': ema.state_dict() if ema is not None else None, 'history': history, 'step_losses': step_losses,
                     'seconds': seconds, 'sums': sums, 'world_size': world}
            atomic_write(checkpoint_path, lambda f: torch.save(state, f))
            write_json(os.path.join(run, 'history.json'), history)
            write_json(os.path.join(run, 'step_losses.json'), step_losses)
            write_safetensors(os.path.join(run, 'last.safetensors'), final_model(task, spec, model, ema).state_dict(), dict(metadata(spec), step=str(step)))
        dist.barrier()

    clock = time.time()
    while step < total:
        if args.max_steps and step >= args.max_steps:
            seconds += time.time() - clock
            save_checkpoint()
            if rank == 0:
                print(f'stopped at step {step} of {total} (--max-steps); rerun without it to continue', flush=True)
            dist.destroy_process_group()
            return
        epoch, b = step // batches + 1, step % batches
        order = permutation(config['Seed'], epoch, n)
        ids = order[b * batch:(b + 1) * batch]                               # the global batch
        mine = ids[rank::world]
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(config, step, total)
        draws = task.draw(step_generator(config['Seed'], step), ids.shape[0])
        draws = {k: v[rank::world].to(device) for k, v in draws.items()}
        model.train()
        per_example, parts = task.losses(ddp, mine.to(device), draws)
        scale = world / ids.shape[0]                                          # DDP averages: Σ_ranks Σ_mine l / B
        loss = per_example.sum() * scale
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema_pairs is not None:
            d = config['EmaDecay']
            with torch.no_grad():
                for e, q in ema_pairs[0]:
                    e.mul_(d).add_(q.detach(), alpha=1 - d)
                for e, q in ema_pairs[1]:
                    e.copy_(q)
        logged = torch.stack([per_example.detach().sum()] + [parts[name].detach().sum() for name in task.parts]).double().cpu()
        dist.all_reduce(logged)
        logged /= ids.shape[0]
        sums['loss'] += logged[0].item()
        for i, name in enumerate(task.parts):
            sums[name] += logged[i + 1].item()
        step_losses.append(logged[0].item())
        step += 1
        end_of_epoch = step % batches == 0
        if end_of_epoch:
            seconds += time.time() - clock
            clock = time.time()
            last = epoch == config['Epochs']
            if rank == 0 and (epoch % config['LogEvery'] == 0 or last):
                validated = final_model(task, spec, model, ema)
                val_loss, metrics = validate(task, spec, validated, epoch)
                log = {'epoch': epoch, 'train_loss': sums['loss'] / batches, 'val_loss': val_loss}
                log.update({k: v for k, v in metrics})
                log.update({name: sums[name] / batches for name in task.parts})
                log['seconds'] = seconds
                history.append(log)
                print(json.dumps(log), flush=True)
            sums = {k: 0.0 for k in sums}
            if epoch % config['CheckpointEvery'] == 0 or last:
                save_checkpoint()
                continue
        if args.checkpoint_steps and step % args.checkpoint_steps == 0:
            seconds += time.time() - clock
            clock = time.time()
            save_checkpoint()

    if rank == 0:
        final = final_model(task, spec, model, ema)
        write_safetensors(os.path.join(run, 'model.safetensors'), final.state_dict(), metadata(spec))
        if ema is not None:
            raw = plain(model)
            raw.eval()
            write_safetensors(os.path.join(run, 'model.raw.safetensors'), raw.state_dict(), metadata(spec))
        write_json(os.path.join(run, 'history.json'), history)
        write_json(os.path.join(run, 'step_losses.json'), step_losses)
        write_json(os.path.join(run, 'finished.json'), {'bundle_id': spec['id'], 'steps': total, 'world_size': world, 'seconds': seconds,
                                                        'torch': torch.__version__})
        print(f'finished {total} steps on {world} processes in {seconds:.1f} s; weights in {run}', flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
