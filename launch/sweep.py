"""A sweep over config values and seeds: one run of experiments.main per point and seed.

  python -m launch.sweep --config=experiments/configs/mnist1d/mlp.py:quick \\
      --sweep='optimizer.learning_rate=1e-3,3e-3,1e-2' [--sweep='train.batch_size=50,100'] \\
      --seeds=0:5 --workdir=runs/lr_sweep [--executor=local --workers=2]
  ... --executor=vmap [--max_chunks=N]
  ... --executor=slurm [--processes_per_task=2 --cpus_per_task=4 --time=2:00:00
      --slurm_args='--partition=gpu --gres=gpu:1'] [--wait]

Every combination of the --sweep lists (a grid) runs once per seed in
WORKDIR/<key=value,...>/seed=<s>/. The sweep writes WORKDIR/sweep.json (config,
points, seeds, every command) first; a rerun of the same command skips finished
runs and resumes the others from their checkpoints. Each run's output goes to
its folder's log.txt. `python -m launch.aggregate WORKDIR` tabulates and plots
the results.

Executors:
  local  a pool of --workers processes on this machine (each run sees all its
         devices; one worker is the fastest for jit-heavy runs, more help small ones).
  vmap   one process trains every run at once, vmapped (dl_course/classification/
         vmapped.py): for classification configs whose runs differ only in
         seed and optimizer.learning_rate (the same shapes); the job resumes
         from WORKDIR/vmapped/ and writes each run's usual folder.
  slurm  one sbatch array (WORKDIR/slurm/sweep.sbatch), a task per point and seed,
         each `launch.sweep_task`: it runs its experiments.main (under srun with
         --processes_per_task > 1: one jax.distributed process per SLURM task),
         and on SIGTERM (a time limit, preemption or `scancel --batch
         --signal=TERM`) the run checkpoints and the task requeues itself; the
         requeued task resumes bit-identically. Logs: WORKDIR/slurm/<job>_<task>.out.
"""
from __future__ import annotations

import concurrent.futures
import itertools
import json
import pathlib
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence

from absl import flags

from dl_course.errors import UserError
from experiments import cli

REPO = pathlib.Path(__file__).resolve().parent.parent

_CONFIG = flags.DEFINE_string('config', None, 'The config file (path[:arg]) every run uses.')
_SWEEP = flags.DEFINE_multi_string('sweep', [], 'key=v1,v2,...: the values of one config key; '
                                   'several --sweep flags make a grid.')
_SEEDS = flags.DEFINE_string('seeds', '0', 'Seeds: one number, a list 0,3,7, or a range 0:5.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Where the sweep\'s runs go.')
_WORKERS = flags.DEFINE_integer('workers', 1, 'Runs at a time.', lower_bound=1)
_TIMEOUT = flags.DEFINE_float('run_timeout', 0, 'Seconds before a run is killed (0: none).',
                              lower_bound=0)
_EXECUTOR = flags.DEFINE_enum('executor', 'local', ['local', 'vmap', 'slurm'],
                              'Where the runs go: a local process pool, one vmapped job, or a '
                              'SLURM array.')
_MAX_CHUNKS = flags.DEFINE_integer('max_chunks', None, 'vmap: stop the job (with a checkpoint) '
                                   'after this many chunks; rerun to resume.', lower_bound=1)
_PROCESSES = flags.DEFINE_integer('processes_per_task', 1, 'slurm: processes (SLURM tasks, '
                                  'one jax.distributed run) per point and seed.', lower_bound=1)
_CPUS = flags.DEFINE_integer('cpus_per_task', 1, 'slurm: CPUs per process.', lower_bound=1)
_TIME = flags.DEFINE_string('time', '', 'slurm: each task\'s time limit (sbatch --time); the '
                            'task gets SIGTERM 120 s before it, checkpoints and requeues.')
_SLURM_ARGS = flags.DEFINE_string('slurm_args', '', 'slurm: more sbatch options, e.g. '
                                  '\'--partition=gpu --gres=gpu:1\'.')
_WAIT = flags.DEFINE_bool('wait', False, 'slurm: wait until every task has ended.')

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


def is_finished(task: dict) -> bool:
  return (pathlib.Path(task['workdir']) / 'summary.json').exists()


def start_task(task: dict, prefix: Sequence[str] = ()) -> subprocess.Popen:
  """The task's run as a child writing to its folder's log.txt."""
  folder = pathlib.Path(task['workdir'])
  folder.mkdir(parents=True, exist_ok=True)
  with open(folder / 'log.txt', 'ab') as log:
    return subprocess.Popen([*prefix, *task['command']], stdout=log, stderr=subprocess.STDOUT)


def run_task(task: dict, timeout: float) -> int:
  if is_finished(task):
    return 0  # finished before
  child = start_task(task)
  try:
    return child.wait(timeout=timeout or None)
  except subprocess.TimeoutExpired:
    child.kill()
    child.wait()
    return -9


def sbatch_script(workdir: pathlib.Path, num_tasks: int, *, processes: int, cpus: int,
                  time_limit: str, extra: str) -> str:
  """The array job: task i runs sweep.json's task i through launch.sweep_task."""
  lines = ['#!/bin/bash', f'#SBATCH --job-name=sweep_{workdir.name}',
           f'#SBATCH --array=0-{num_tasks - 1}', f'#SBATCH --ntasks={processes}',
           f'#SBATCH --cpus-per-task={cpus}', f'#SBATCH --chdir={REPO}',
           f'#SBATCH --output={workdir.resolve()}/slurm/%A_%a.out', '#SBATCH --open-mode=append',
           '#SBATCH --requeue', '#SBATCH --signal=B:TERM@120']
  if time_limit:
    lines.append(f'#SBATCH --time={time_limit}')
  lines += [f'#SBATCH {option}' for option in shlex.split(extra)]
  # exec: the task runner is the batch step itself, so `scancel --batch` and the
  # time-limit signal reach it, and it passes them on to the run.
  lines.append(f'exec {shlex.quote(sys.executable)} -m launch.sweep_task '
               f'{shlex.quote(str((workdir / "sweep.json").resolve()))}')
  return '\n'.join(lines) + '\n'


def submit_to_slurm(workdir: pathlib.Path, tasks: list[dict]) -> str:
  """Submits the sweep as one array (a task whose run finished before ends at once);
  returns the job id."""
  if not shutil.which('sbatch'):
    raise UserError('--executor=slurm needs sbatch on PATH (a SLURM login node); '
                    'for a one-node cluster on this machine run launch/slurm_local.sh as root')
  script = workdir / 'slurm' / 'sweep.sbatch'
  script.parent.mkdir(exist_ok=True)
  script.write_text(sbatch_script(workdir, len(tasks), processes=_PROCESSES.value,
                                  cpus=_CPUS.value, time_limit=_TIME.value,
                                  extra=_SLURM_ARGS.value))
  done = subprocess.run(['sbatch', '--parsable', str(script)], capture_output=True, text=True,
                        check=False)
  if done.returncode:
    raise UserError(f'sbatch refused {script}: '
                    + (done.stderr.strip().splitlines() or ['no message'])[-1])
  return done.stdout.strip().split(';')[0]


def wait_for_slurm(job: str) -> None:
  while subprocess.run(['squeue', '--noheader', '--jobs', job], capture_output=True, text=True,
                       check=False).stdout.strip():
    time.sleep(5)


def run_vmapped(config_spec: str, axes, tasks: list[dict], workdir: pathlib.Path) -> None:
  """Every task as one vmapped job (dl_course/classification/vmapped.py)."""
  # pylint: disable=import-outside-toplevel  (jax only for this executor)
  from dl_course.classification import vmapped
  from dl_course.studies import Stopped
  for key, _ in axes:
    if key not in vmapped.VMAPPABLE_KEYS:
      raise UserError(f'--sweep={key}=... is not allowed with --executor=vmap: its runs must '
                      f'share shapes, so it sweeps {", ".join(vmapped.VMAPPABLE_KEYS)} and '
                      '--seeds; use --executor=local or slurm')
  base = load_config(config_spec)
  if not vmapped.is_trainer_config(base):
    raise UserError(f'--config={config_spec} is not allowed with --executor=vmap: it trains '
                    'classification configs (experiments/configs/classify, mnist1d); use '
                    '--executor=local or slurm')
  if all(is_finished(task) for task in tasks):
    print(f'{len(tasks)} runs in {workdir} (finished before); aggregate: '
          f'python -m launch.aggregate {workdir}')
    return
  runs = [{'seed': task['seed'],
           'learning_rate': float(task['point'].get('optimizer.learning_rate',
                                                    base.optimizer.learning_rate)),
           'workdir': task['workdir']} for task in tasks]
  result = vmapped.train_vmapped(base, runs, workdir / 'vmapped', max_chunks=_MAX_CHUNKS.value)
  if isinstance(result, Stopped):
    print(f'{result}; checkpoint saved in {workdir / "vmapped"}; run the same command to resume')
    return
  print(f'{len(tasks)} runs trained as one vmapped job in {workdir}; aggregate: '
        f'python -m launch.aggregate {workdir}')


def load_config(spec: str):
  """A config file's get_config(arg) for `path.py[:arg]`."""
  # pylint: disable=import-outside-toplevel
  import importlib.util
  path, _, arg = spec.partition(':')
  module_spec = importlib.util.spec_from_file_location('sweep_config', path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg or None)


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
  if _PROCESSES.value > 1 and _EXECUTOR.value != 'slurm':
    raise UserError('--processes_per_task > 1 needs --executor=slurm (its processes are SLURM '
                    'tasks, joined by jax.distributed)')
  if _MAX_CHUNKS.value and _EXECUTOR.value != 'vmap':
    raise UserError('--max_chunks goes with --executor=vmap')
  workdir.mkdir(parents=True, exist_ok=True)
  (workdir / 'sweep.json').write_text(json.dumps(
      {'config': _CONFIG.value, 'axes': dict(axes), 'seeds': seeds,
       'processes_per_task': _PROCESSES.value, 'tasks': tasks}, indent=1))
  if _EXECUTOR.value == 'vmap':
    run_vmapped(_CONFIG.value, axes, tasks, workdir)
    return
  if _EXECUTOR.value == 'slurm':
    job = submit_to_slurm(workdir, tasks)
    print(f'SLURM array job {job}: {len(tasks)} tasks; logs in {workdir / "slurm"}; '
          f'squeue --jobs {job}', flush=True)
    if not _WAIT.value:
      return
    wait_for_slurm(job)
    unfinished = [t['workdir'] for t in tasks if not is_finished(t)]
    if unfinished:
      cli.fail(f'{len(unfinished)} of {len(tasks)} runs did not finish, first: '
               f'{unfinished[0]}/log.txt', cli.EXIT_FAULT)
    print(f'{len(tasks)} runs in {workdir}; aggregate: python -m launch.aggregate {workdir}')
    return
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
