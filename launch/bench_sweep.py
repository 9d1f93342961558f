"""A sweep as one vmapped job against the local executor's lone runs, end to end.

  python -m launch.bench_sweep [--config=experiments/configs/mnist1d/mlp.py:quick]
      [--learning_rates=1e-3,3e-3,1e-2] [--seeds=0:4] [--workers=2] [--repeats=2]

Each repeat runs the same sweep twice into fresh folders, side by side:
`launch.sweep --executor=local --workers=N` (one experiments.main process per
run) and `launch.sweep --executor=vmap` (one process, every run in one vmapped
program), alternating which goes first. It prints both wall times, their ratio
(vmap / local), and the largest difference in final test accuracy between a
vmapped run and its lone twin. Both share the persistent compilation cache,
warmed by a first untimed pass. A benchmark, not a test: numbers depend on the
machine and its load.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import time

from absl import flags

from experiments import cli

_CONFIG = flags.DEFINE_string('config', 'experiments/configs/mnist1d/mlp.py:quick',
                              'A classification config.')
_RATES = flags.DEFINE_string('learning_rates', '1e-3,3e-3,1e-2', 'The swept learning rates.')
_SEEDS = flags.DEFINE_string('seeds', '0:4', 'Seeds (launch.sweep syntax).')
_WORKERS = flags.DEFINE_integer('workers', 2, 'Local executor: runs at a time.', lower_bound=1)
_REPEATS = flags.DEFINE_integer('repeats', 2, 'Timed pairs.', lower_bound=1)


def sweep_seconds(workdir: pathlib.Path, executor: str) -> float:
  command = [sys.executable, '-m', 'launch.sweep', f'--config={_CONFIG.value}',
             f'--sweep=optimizer.learning_rate={_RATES.value}', f'--seeds={_SEEDS.value}',
             f'--workdir={workdir}', f'--executor={executor}', f'--workers={_WORKERS.value}']
  start = time.perf_counter()
  done = subprocess.run(command, capture_output=True, text=True, check=False)
  seconds = time.perf_counter() - start
  if done.returncode:
    cli.fail(f'{executor} sweep failed: {(done.stderr.strip().splitlines() or ["?"])[-1]}',
             cli.EXIT_FAULT)
  return seconds


def final_accuracies(workdir: pathlib.Path) -> dict[str, float]:
  return {str(path.parent.relative_to(workdir)): json.loads(path.read_text())['test/accuracy']
          for path in workdir.rglob('summary.json') if path.parent.name.startswith('seed=')}


def main(argv):
  if len(argv) > 1:
    raise cli.UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  with tempfile.TemporaryDirectory() as scratch:
    root = pathlib.Path(scratch)
    for executor in ('local', 'vmap'):  # compiles into the persistent cache, untimed
      sweep_seconds(root / f'warm_{executor}', executor)
    runs = len(final_accuracies(root / 'warm_vmap'))
    print(f'{_CONFIG.value}: learning rates {_RATES.value}, seeds {_SEEDS.value} ({runs} runs); '
          f'local executor with {_WORKERS.value} workers')
    print(f'{"repeat":>6} {"local s":>8} {"vmap s":>7} {"vmap/local":>11} {"max |Δ test acc|":>17}')
    for repeat in range(_REPEATS.value):
      order = ('local', 'vmap') if repeat % 2 == 0 else ('vmap', 'local')
      seconds = {executor: sweep_seconds(root / f'{executor}{repeat}', executor)
                 for executor in order}
      lone, vmapped = (final_accuracies(root / f'{e}{repeat}') for e in ('local', 'vmap'))
      gap = max(abs(lone[k] - vmapped[k]) for k in lone)
      print(f'{repeat:>6} {seconds["local"]:>8.1f} {seconds["vmap"]:>7.1f} '
            f'{seconds["vmap"] / seconds["local"]:>11.2f} {gap:>17.3f}')


if __name__ == '__main__':
  cli.run(main)
