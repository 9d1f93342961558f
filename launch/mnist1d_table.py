"""The MNIST-1D table: our test accuracy beside Greydanus & Kobak (2024), table 1.

  python -m launch.mnist1d_table            # one seed, ~1 min on 2 CPU cores
  python -m launch.mnist1d_table --full     # seeds 0-2, mean and spread

Each row trains experiments/configs/mnist1d_<model>.py with its default config.
"""
from __future__ import annotations

import importlib
import pathlib
import tempfile
import time

import numpy as np
from absl import app, flags

from dl_course.classification import train_and_evaluate
from dl_course.claims import Claim, at_least

PAPER = 'Greydanus & Kobak 2024'
# (config module, row name, published test accuracy)
ROWS = (('mnist1d_logreg', 'logistic regression', 0.32),
        ('mnist1d_mlp', 'MLP', 0.68),
        ('mnist1d_cnn', 'CNN', 0.94),
        ('mnist1d_gru', 'GRU', 0.91))
QUICK_SEEDS, FULL_SEEDS = (0,), (0, 1, 2)


def run_rows(full: bool, workdir: pathlib.Path, progress: bool = False) -> list[dict]:
  rows = []
  for module, name, paper in ROWS:
    accuracies, seconds = [], 0.0
    for seed in FULL_SEEDS if full else QUICK_SEEDS:
      config = importlib.import_module(f'experiments.configs.{module}').get_config(f'seed={seed}')
      config.progress = progress
      start = time.perf_counter()
      result = train_and_evaluate(config, workdir / f'{module}_seed{seed}')
      seconds += time.perf_counter() - start
      accuracies.append(result['test/accuracy'])
    rows.append({'model': name, 'paper': paper, 'accuracies': accuracies,
                 'mean': float(np.mean(accuracies)), 'steps': config.num_steps,
                 'seconds': seconds})
  return rows


def claims(full: bool, workdir: pathlib.Path) -> list[Claim]:
  return [at_least(f'MNIST-1D {r["model"]} test accuracy'
                   + (f' (mean of {len(r["accuracies"])} seeds)' if full else ''),
                   r['mean'], r['paper'], unit=' %', scale=100, source=PAPER)
          for r in run_rows(full, workdir)]


def format_rows(rows: list[dict]) -> str:
  lines = [f'{"model":<20} {"paper":>7} {"ours":>16} {"steps":>6} {"time":>7}']
  for r in rows:
    ours = f'{100 * r["mean"]:.1f} %'
    if len(r['accuracies']) > 1:
      ours += f' ± {100 * np.std(r["accuracies"]):.1f}'
    lines.append(f'{r["model"]:<20} {100 * r["paper"]:>5.0f} % {ours:>16} {r["steps"]:>6} '
                 f'{r["seconds"]:>6.0f}s')
  return '\n'.join(lines)


def main(argv):
  del argv
  workdir = pathlib.Path(flags.FLAGS.workdir or tempfile.mkdtemp(prefix='mnist1d_table_'))
  print(format_rows(run_rows(flags.FLAGS.full, workdir, progress=True)))
  print(f'runs in {workdir}')


if __name__ == '__main__':
  # Flags are defined here, not at import, because launch.reproduce imports this module.
  flags.DEFINE_bool('full', False, 'Three seeds per model instead of one.')
  flags.DEFINE_string('workdir', None, 'Where the runs go (default: a temp dir).')
  app.run(main)
