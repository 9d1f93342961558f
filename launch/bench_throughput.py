"""Training throughput (examples/s) per model family: 'scan' vs 'loop' dispatch.

  python -m launch.bench_throughput [--seconds=3] [--batch_size=100] [--steps_per_dispatch=100]
                                   [--models=lenet --models=resnet]

Both modes run side by side in one process on MNIST-1D (and LeNet and ResNet on
MNIST-5k images), after a warm-up that compiles; the table's last column is
scan / loop, so > 1 means the scan is faster. This is a benchmark, not a
test: numbers depend on the machine and its load.
"""
from __future__ import annotations

import time

import jax
import numpy as np
from absl import flags

from dl_course import data
from experiments import cli
from launch.engine_timing import engine_trainer

_SECONDS = flags.DEFINE_float('seconds', 5.0, 'Timed seconds per model and mode (after warm-up).',
                               lower_bound=0.1)
_BATCH = flags.DEFINE_integer('batch_size', 100, 'Global batch size.', lower_bound=1)
_K = flags.DEFINE_integer('steps_per_dispatch', 100, 'Steps per chunk.', lower_bound=1)
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Alternating timed windows per mode (median).',
                                lower_bound=1)
_MODELS = flags.DEFINE_multi_enum('models', None, ['logreg', 'mlp', 'cnn1d', 'gru', 'lenet', 'resnet'],
                                  'Only these models (repeat the flag); all by default.')

MODES = ('loop', 'scan')
FAMILIES = (('logreg', 'mnist1d', {'name': 'logreg'}),
            ('mlp', 'mnist1d', {'name': 'mlp', 'hidden_sizes': (100, 100)}),
            ('cnn1d', 'mnist1d', {'name': 'cnn1d'}),
            ('gru', 'mnist1d', {'name': 'gru', 'hidden_size': 12}),
            ('lenet', 'mnist5k', {'name': 'lenet'}),
            ('resnet', 'mnist5k', {'name': 'resnet', 'stem_stride': 2}))


def examples_per_second(model_config, dataset, seconds, batch_size, k, rounds) -> dict:
  """{mode: median ex/s over `rounds` timed windows}; the modes' windows alternate,
  so a change in the machine's load falls on both alike."""
  train = data.load(dataset)
  trainers = {mode: engine_trainer(model_config, train, mode=mode, batch_size=batch_size, k=k)
              for mode in MODES}
  rates = {mode: [] for mode in MODES}
  for _ in range(rounds):
    for mode, advance in trainers.items():
      start = time.perf_counter()
      steps = advance(seconds / rounds)
      rates[mode].append(steps * batch_size / (time.perf_counter() - start))
  return {mode: float(np.median(r)) for mode, r in rates.items()}


def main(argv):
  del argv
  print(f'jax {jax.__version__}, {jax.device_count()} x {jax.devices()[0].device_kind}, '
        f'batch {_BATCH.value}, {_K.value} steps per dispatch')
  print(f'{"model":<8} {"data":<8} {"loop ex/s":>11} {"scan ex/s":>11} {"scan/loop":>10}')
  for name, dataset, config in FAMILIES:
    if _MODELS.value and name not in _MODELS.value:
      continue
    rates = examples_per_second(config, dataset, _SECONDS.value, _BATCH.value, _K.value,
                                _ROUNDS.value)
    print(f'{name:<8} {dataset:<8} {rates["loop"]:>11,.0f} {rates["scan"]:>11,.0f} '
          f'{rates["scan"] / rates["loop"]:>10.2f}', flush=True)


if __name__ == '__main__':
  cli.run(main)
