"""A sweep over config values and seeds: one run of experiments.main per point and seed.

  python -m launch.sweep --config=experiments/configs/mnist1d/mlp.py:quick \\
      --sweep='optimizer.learning_rate=1e-3,3e-3,1e-2' [--sweep='train.batch_size=50,100'] \\
      --seeds=0:5 --workdir=runs/lr_sweep [--workers=2]

Every combination of the --sweep lists (a grid) runs once per seed in
WORKDIR/<key=value,...>/seed=<s>/, started as its own process by a local pool
of --workers (each run sees the machine's devices; one worker per machine is
the fastest for jit-heavy runs, more help with small ones). The sweep writes
WORKDIR/sweep.json (config, points, seeds, every command) first; a rerun of the
same command skips finished runs and resumes the others from their checkpoints.
Each run's output goes to its folder's log.txt. `python -m launch.aggregate
WORKDIR` tabulates and plots the results. Only the local executor exists so far
(no SLURM, no multi-process runs).
"""
from __future__ import annotations

import concurrent.futures
import itertools
import json
import pathlib
import subprocess
import sys

from absl import flags

from dl_course.errors import UserError
from experiments import cli

_CONFIG = flags.DEFINE_string('config', None, 'The config file (path[:arg]) every run uses.')
_SWEEP = flags.DEFINE_multi_string('sweep', [], 'key=v1,v2,...: the values of one config key; '
                                   'several --sweep flags make a grid.')
_SEEDS = flags.DEFINE_string('seeds', '0', 'Seeds: one number, a list 0,3,7, or a range 0:5.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the sweep\'s runs go.')
_WORKERS = flags.DEFINE_integer('workers', 1, 'Runs at a time.', lower_bound=1)
_TIMEOUT = flags.DEFINE_float('run_timeout', 0, 'Seconds before a run is killed (0: none).',
                              lower_bound=0)

FINISHED_CODES = (0, cli.EXIT_CLAIM_FAILED)  # 3: it ran to its end; a claim missed


def parse_seeds(text: str) -> list[int]:
  try:
    if ':' in text:
      start, stop = (int(v) for v in text.split(':'))
      seeds = list(range(start, stop))
    else:
      seeds = [int(v) for v in text.split(',') if v.strip()]
  except ValueError:
    seeds = []
  if not seeds or min(seeds) < 0:
    raise UserError(f'--seeds={text!r} is not allowed: a seed (3), a list (0,3,7) or a range '
                    'start:stop (0:5), seeds >= 0')
  return seeds


def parse_sweeps(specs: list[str]) -> list[tuple[str, list[str]]]:
  axes = []
  for spec in specs:
    key, _, values = spec.partition('=')
    listed = [v.strip() for v in values.split(',') if v.strip()]
    if not key.strip() or not listed:
      raise UserError(f'--sweep={spec!r} is not allowed: key=value1,value2,... '
                      '(e.g. optimizer.learning_rate=1e-3,3e-3)')
    if key.strip() == 'seed':
      raise UserError('--sweep=seed=... is not allowed: give the seeds with --seeds')
    axes.append((key.strip(), listed))
  if len({key for key, _ in axes}) != len(axes):
    raise UserError('two --sweep flags name the same key')
  return axes


def point_name(point: dict) -> str:
  return ','.join(f'{key}={value}' for key, value in point.items()) or 'default'


def plan(config: str, axes, seeds: list[int], workdir: pathlib.Path) -> list[dict]:
  """Every (point, seed) run: its folder and its command."""
  tasks = []
  for values in itertools.product(*(listed for _, listed in axes)):
    point = dict(zip((key for key, _ in axes), values))
    for seed in seeds:
      folder = workdir / point_name(point) / f'seed={seed}'
      command = [sys.executable, '-m', 'experiments.main', f'--config={config}',
                 f'--workdir={folder}', f'--config.seed={seed}',
                 *(f'--config.{key}={value}' for key, value in point.items())]
      tasks.append({'point': point, 'seed': seed, 'workdir': str(folder), 'command': command})
  return tasks


def run_task(task: dict, timeout: float) -> int:
  folder = pathlib.Path(task['workdir'])
  if (folder / 'summary.json').exists():
    return 0  # finished before
  folder.mkdir(parents=True, exist_ok=True)
  with open(folder / 'log.txt', 'ab') as log:
    try:
      return subprocess.run(task['command'], stdout=log, stderr=subprocess.STDOUT,
                            timeout=timeout or None, check=False).returncode
    except subprocess.TimeoutExpired:
      return -9


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not _CONFIG.value or not _WORKDIR.value:
    raise UserError('--config and --workdir are required')
  axes, seeds = parse_sweeps(_SWEEP.value), parse_seeds(_SEEDS.value)
  workdir = pathlib.Path(_WORKDIR.value)
  tasks = plan(_CONFIG.value, axes, seeds, workdir)
  # The first point and seed's config is checked before anything runs: a bad key
  # or value is one line here, not the same error in every run's log.
  check = subprocess.run([*tasks[0]['command'], '--helpshort'], capture_output=True, text=True,
                         check=False)
  if check.returncode:
    raise UserError((check.stderr.strip().splitlines() or ['the first run\'s flags are bad'])[-1]
                    .removeprefix('error: '))
  workdir.mkdir(parents=True, exist_ok=True)
  (workdir / 'sweep.json').write_text(json.dumps(
      {'config': _CONFIG.value, 'axes': dict(axes), 'seeds': seeds, 'tasks': tasks}, indent=1))
  failed = []
  with concurrent.futures.ThreadPoolExecutor(_WORKERS.value) as pool:
    futures = {pool.submit(run_task, task, _TIMEOUT.value): task for task in tasks}
    for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
      task, code = futures[future], future.result()
      status = 'done' if code in FINISHED_CODES else f'FAILED (exit {code}; see log.txt)'
      print(f'[{done}/{len(tasks)}] {point_name(task["point"])} seed={task["seed"]}: {status}',
            flush=True)
      if code not in FINISHED_CODES:
        failed.append(task['workdir'])
  if failed:
    cli.fail(f'{len(failed)} of {len(tasks)} runs failed, first: {failed[0]}/log.txt',
             cli.EXIT_FAULT)
  print(f'{len(tasks)} runs in {workdir}; aggregate: python -m launch.aggregate {workdir}')


if __name__ == '__main__':
  cli.run(main)
