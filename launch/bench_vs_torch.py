"""Training throughput against PyTorch on the CPU: the same nets, batch, optimiser and data.

  python -m launch.bench_vs_torch [--seconds=20] [--rounds=5] [--steps_per_dispatch=50]

Two models on MNIST-5k images (28x28), batch 128, Adam (lr 1e-3):
  mlp    784-512-512-10, ReLU;
  lenet  conv 5x5 (32) -> ReLU -> max-pool 2 -> conv 5x5 (64) -> ReLU -> max-pool 2
         -> dense 128 -> ReLU -> dense 10 ('SAME' convolutions).
Ours: the engine's chunk runner (`lax.scan` of K steps per dispatch, the batches
gathered on the host by the (seed, step) sampler). PyTorch: the textbook eager
loop (zero_grad, forward, cross-entropy, backward, step) on the same batches,
with its default thread count. The two alternate in `rounds` timed windows after
a warm-up, so a change in the machine's load falls on both; each figure is the
median. Targets (issue 19): MLP >= 2.5x PyTorch, LeNet >= 1.2x.

PyTorch is optional and not in requirements.txt. Without it this prints how to
install it and exits 0:  pip install torch==2.13.0  (the CPU build).
A benchmark, not a test: numbers depend on the machine and its load.
"""
from __future__ import annotations

import statistics
import time

import jax
import numpy as np
from absl import flags

from dl_course import data
from dl_course.data.sampler import batch_indices
from experiments import cli
from launch.engine_timing import engine_trainer

_SECONDS = flags.DEFINE_float('seconds', 20.0, 'Timed seconds per model and framework.',
                              lower_bound=0.5)
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Alternating timed windows per framework (median).',
                               lower_bound=1)
_K = flags.DEFINE_integer('steps_per_dispatch', 50, 'Our steps per jitted chunk.', lower_bound=1)
_MODELS = flags.DEFINE_multi_enum('models', None, ['mlp', 'lenet'], 'Only these models.')

BATCH = 128
LEARNING_RATE = 1e-3
TARGETS = {'mlp': 2.5, 'lenet': 1.2}
OURS = {'mlp': {'name': 'mlp', 'hidden_sizes': (512, 512)},
        'lenet': {'name': 'lenet', 'channels': (32, 64), 'hidden': 128}}
INSTALL = 'pip install torch==2.13.0'


def torch_trainer(name: str, train):
  import torch
  from torch import nn
  torch.manual_seed(0)
  images = train.x.reshape(len(train.x), -1) if name == 'mlp' else train.x
  if name == 'mlp':
    net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                        nn.Linear(512, 10))
  else:
    images = np.ascontiguousarray(np.moveaxis(train.x.reshape(-1, 28, 28, 1), -1, 1))  # NCHW
    net = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
  optimiser = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
  labels = train.y.astype(np.int64)
  box = {'step': 0}

  def advance(seconds: float) -> int:
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds or done == 0:
      idx = batch_indices(0, box['step'], len(labels), BATCH)
      xb, yb = torch.from_numpy(images[idx]), torch.from_numpy(labels[idx])
      optimiser.zero_grad(set_to_none=True)
      nn.functional.cross_entropy(net(xb), yb).backward()
      optimiser.step()
      done, box['step'] = done + 1, box['step'] + 1
    return done

  advance(0.0)
  return advance


def main(argv):
  del argv
  try:
    import torch
  except ImportError:
    print(f'PyTorch is not installed; this benchmark compares against it. Install the CPU '
          f'build with:  {INSTALL}')
    return
  train = data.load('mnist5k', 'train')
  print(f'jax {jax.__version__} ({jax.device_count()} x {jax.devices()[0].device_kind}), '
        f'torch {torch.__version__} ({torch.get_num_threads()} threads), '
        f'batch {BATCH}, Adam, {_K.value} steps per dispatch; {_ROUNDS.value} alternating '
        f'windows of {_SECONDS.value / _ROUNDS.value:.1f} s each, medians')
  header = f'{"model":<7} {"ours ex/s":>10} {"torch ex/s":>11} {"ours/torch":>11} {"target":>7}  pass'
  rows = []
  for name in ('mlp', 'lenet'):
    if _MODELS.value and name not in _MODELS.value:
      continue
    ours = engine_trainer(OURS[name], train, mode='scan', batch_size=BATCH, k=_K.value,
                          learning_rate=LEARNING_RATE)
    theirs = torch_trainer(name, train)
    rates = {'ours': [], 'torch': []}
    window = _SECONDS.value / _ROUNDS.value
    for _ in range(_ROUNDS.value):
      for label, advance in (('ours', ours), ('torch', theirs)):
        start = time.perf_counter()
        steps = advance(window)
        rates[label].append(steps * BATCH / (time.perf_counter() - start))
    ours_rate, torch_rate = (statistics.median(rates[k]) for k in ('ours', 'torch'))
    ratio = ours_rate / torch_rate
    rows.append(f'{name:<7} {ours_rate:>10,.0f} {torch_rate:>11,.0f} {ratio:>11.2f} '
                f'{TARGETS[name]:>7.1f}  {"yes" if ratio >= TARGETS[name] else "NO"}')
    print(rows[-1], flush=True)
  print(header)
  print('\n'.join(rows))


if __name__ == '__main__':
  cli.run(main)
