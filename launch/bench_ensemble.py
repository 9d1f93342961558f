"""Deep-ensemble training: M members as one vmapped run vs M runs one after another.

  python -m launch.bench_ensemble [--members=8] [--num_steps=500]

Both train MNIST-1D MLPs (40-100-100-10, Adam, batch 100) with
dl_course.uncertainty.ensembles.train_members — vmapped over M keys, or called
M times with one key — after a warm-up that compiles both. The last column is
vmapped time / sequential time (the issue's target: <= 0.35 for 8 small MLPs).
A benchmark, not a test: numbers depend on the machine and its load.
"""
from __future__ import annotations

import time

import jax
from absl import flags

from dl_course import data
from dl_course.models import MLP
from dl_course.uncertainty.ensembles import member_keys, train_members
from experiments import cli

_MEMBERS = flags.DEFINE_integer('members', 8, 'Ensemble size M.', lower_bound=1)
_STEPS = flags.DEFINE_integer('num_steps', 500, 'Training steps per member.', lower_bound=1)
_WIDTHS = flags.DEFINE_list('widths', ['32', '100', '256'], 'Hidden widths to compare.')


def timed(fn) -> float:
  start = time.perf_counter()
  jax.block_until_ready(fn())
  return time.perf_counter() - start


def main(argv):
  del argv
  train = data.load('mnist1d', 'train')
  keys = member_keys(0, _MEMBERS.value)
  print(f'{"model":<18} {"M":>3} {"vmapped s":>10} {"sequential s":>13} {"vmapped/seq":>12}')
  for width in map(int, _WIDTHS.value):
    model = MLP(num_classes=10, hidden_sizes=(width, width))

    def run(member_keys_, steps):
      return train_members(model, train.x, train.y, member_keys_, learning_rate=1e-3,
                           num_steps=steps, batch_size=100, seed=0,
                           steps_per_dispatch=100).params

    run(keys, 100), run(keys[:1], 100)  # compile both shapes
    together = timed(lambda: run(keys, _STEPS.value))
    one_by_one = timed(lambda: [run(keys[m:m + 1], _STEPS.value)
                                for m in range(_MEMBERS.value)])
    print(f'{f"MLP {width}-{width}":<18} {_MEMBERS.value:>3} {together:>10.2f} '
          f'{one_by_one:>13.2f} {together / one_by_one:>12.2f}', flush=True)


if __name__ == '__main__':
  cli.run(main)
