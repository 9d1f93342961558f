"""One task of a SLURM sweep (launch.sweep --executor=slurm): the batch step of
array task $SLURM_ARRAY_TASK_ID.

  python -m launch.sweep_task WORKDIR/sweep.json

Runs that task's experiments.main (under `srun` when the sweep has several
processes per task: one jax.distributed process per SLURM task) unless its run
has finished. SIGTERM (a time limit, preemption, `scancel --batch
--signal=TERM`) is passed on to the run, which checkpoints and stops; the task
then requeues itself (`scontrol requeue`), and the requeued task resumes the run
from that checkpoint, bit-identically. A cancelled task (`scancel JOB`, whose
SIGTERM comes with the job already COMPLETING) stops with its checkpoint and
stays cancelled. Exit status: the run's, or 0 once requeued.
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys

from launch.sweep import FINISHED_CODES, is_finished, start_task


def this_array_task() -> str:
  """The task's own id for scontrol: <array job>_<index> (a bare SLURM_JOB_ID of
  the array's last task would name the whole array)."""
  array, index = os.environ.get('SLURM_ARRAY_JOB_ID'), os.environ.get('SLURM_ARRAY_TASK_ID')
  return f'{array}_{index}' if array and index else os.environ['SLURM_JOB_ID']


def job_state(job: str) -> str:
  """RUNNING, COMPLETING (cancelled: on its way out), ... or '' once gone."""
  try:
    return subprocess.run(['squeue', '--noheader', '--jobs', job, '--format=%T'],
                          capture_output=True, text=True, timeout=30, check=False).stdout.strip()
  except subprocess.TimeoutExpired:
    return ''


def main(argv: list[str]) -> int:
  if len(argv) != 2 or 'SLURM_ARRAY_TASK_ID' not in os.environ:
    print('usage: python -m launch.sweep_task SWEEP_DIR/sweep.json, as a SLURM array task '
          '(launch.sweep --executor=slurm writes and submits it)', file=sys.stderr)
    return 2
  try:
    sweep = json.loads(pathlib.Path(argv[1]).read_text())
  except (OSError, ValueError) as error:
    print(f'error: {argv[1]} cannot be read as a sweep.json ({error.__class__.__name__}: '
          f'{error}); launch.sweep writes it in the sweep\'s --workdir', file=sys.stderr)
    return 2
  index = int(os.environ['SLURM_ARRAY_TASK_ID'])
  task = sweep['tasks'][index]
  restarts = os.environ.get('SLURM_RESTART_COUNT', '0')
  print(f'task {index} ({task["workdir"]}), start {int(restarts) + 1}', flush=True)
  if is_finished(task):
    print('finished before: nothing to run', flush=True)
    return 0
  processes = sweep.get('processes_per_task', 1)
  prefix = (['srun', f'--ntasks={processes}', '--kill-on-bad-exit=1'] if processes > 1 else [])
  terminated, children = [], []

  def pass_on(signum, _frame):
    terminated.append(signum)
    for started in children:
      started.send_signal(signum)

  signal.signal(signal.SIGTERM, pass_on)
  children.append(start_task(task, prefix))
  if terminated:  # a signal before the child existed
    children[0].send_signal(signal.SIGTERM)
  code = children[0].wait()
  if terminated and not is_finished(task):
    state = job_state(this_array_task())
    if state != 'RUNNING':
      print(f'SIGTERM with the job {state or "gone"} (cancelled): the run stopped (exit {code}) '
            'with a checkpoint; not requeued', flush=True)
      return 0
    print(f'SIGTERM: the run stopped (exit {code}) with a checkpoint; requeueing '
          f'{this_array_task()}', flush=True)
    requeued = subprocess.run(['scontrol', 'requeue', this_array_task()], capture_output=True,
                              text=True, check=False)
    if requeued.returncode:
      print(f'scontrol requeue failed: {requeued.stderr.strip()}; rerun the sweep command to '
            'resume', flush=True)
      return 1
    return 0
  print(f'run ended: exit {code}', flush=True)
  return 0 if code in FINISHED_CODES else code


if __name__ == '__main__':
  sys.exit(main(sys.argv))
