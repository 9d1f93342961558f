"""launch.sweep --executor=slurm against a real SLURM (launch/slurm_local.sh starts
a one-node cluster on this machine; .ci/run does). An array of 4 tasks; one is
sent SIGTERM mid-run, checkpoints, requeues itself and resumes: its records are
byte-identical to an uninterrupted run, and the aggregated table is right."""
from __future__ import annotations

import json
import math
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.helpers import run

CONFIG = 'experiments/configs/classify/mlp.py:quick'
STEPS = 1500  # about 25 s a run on one core: long enough to be stopped mid-run
DEADLINE_S = 480


def _cluster_problem() -> str | None:
  if not shutil.which('sbatch'):
    return 'no sbatch on PATH: start a one-node SLURM with `sudo launch/slurm_local.sh`'
  try:
    state = subprocess.run(['sinfo', '--noheader', '--format=%T'], capture_output=True,
                           text=True, timeout=20, check=False)
  except subprocess.TimeoutExpired:
    return 'sinfo does not answer: is slurmctld up? (sudo launch/slurm_local.sh)'
  states = state.stdout.split()
  if state.returncode or not any(s.startswith(('idle', 'mix', 'alloc')) for s in states):
    return f'no SLURM node up ({state.stderr.strip() or states}): sudo launch/slurm_local.sh'
  return None


_PROBLEM = _cluster_problem()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_PROBLEM is not None, reason=str(_PROBLEM))]


def _squeue(job: str, *fields: str) -> list[list[str]]:
  out = subprocess.run(['squeue', '--noheader', '--array', '--jobs', job,
                        '--format=' + ' '.join(fields)], capture_output=True, text=True,
                       timeout=20, check=False).stdout
  return [line.split() for line in out.splitlines() if line.strip()]


def _wait(condition, what: str, deadline: float, every: float = 1.0):
  while time.monotonic() < deadline:
    value = condition()
    if value:
      return value
    time.sleep(every)
  pytest.fail(f'timed out waiting for {what}')


def test_a_slurm_array_survives_sigterm_and_requeue_bit_identically(tmp_path):
  deadline = time.monotonic() + DEADLINE_S
  sweep = tmp_path / 'sweep'
  done = run([sys.executable, '-m', 'launch.sweep', f'--config={CONFIG}',
              '--sweep=optimizer.learning_rate=0.001,0.003', f'--sweep=train.num_steps={STEPS}',
              '--seeds=0:2', f'--workdir={sweep}', '--executor=slurm'])
  assert done.returncode == 0, done.stderr
  job = done.stdout.split('SLURM array job ')[1].split(':')[0]
  tasks = json.loads((sweep / 'sweep.json').read_text())['tasks']
  assert len(tasks) == 4 and (sweep / 'slurm' / 'sweep.sbatch').exists()
  try:
    # Task 1 mid-run: it has written records but is not finished.
    victim = pathlib.Path(tasks[1]['workdir'])
    _wait(lambda: (victim / 'metrics.jsonl').exists()
          and (victim / 'metrics.jsonl').read_text().count('\n') >= 1
          and not (victim / 'summary.json').exists(), 'task 1 to be mid-run', deadline, 0.2)
    # scancel delivers the signal at once, then retries ("job can not be altered
    # now") while the task requeues itself, and would signal the requeued task
    # again: it is stopped once the task is pending.
    signaller = subprocess.Popen(['scancel', '--batch', '--signal=TERM', f'{job}_1'],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(lambda: any(row[0] == f'{job}_1' and row[1] == 'PENDING'
                      for row in _squeue(job, '%i', '%T')), 'task 1 to be requeued', deadline)
    signaller.kill()
    # A requeued job may start only ~2 min later; let it start now.
    subprocess.run(['scontrol', 'update', f'jobid={job}_1', 'StartTime=now'], timeout=20,
                   check=False)
    _wait(lambda: not _squeue(job, '%i'), 'the array to end', deadline, 2.0)
  finally:
    if 'signaller' in locals():
      signaller.kill()
      signaller.wait()
    subprocess.run(['scancel', job], timeout=20, check=False)
  log = next((sweep / 'slurm').glob(f'{job}_1.out')).read_text()
  assert log.count('SIGTERM: the run stopped') == 1 and 'start 2' in log, log
  assert 'stopped by SIGTERM at step' in (victim / 'log.txt').read_text()
  for task in tasks:
    assert (pathlib.Path(task['workdir']) / 'summary.json').exists(), task['workdir']

  reference = tmp_path / 'uninterrupted'
  plain = run([*tasks[1]['command'][:4], f'--workdir={reference}', *tasks[1]['command'][5:],
               '--config.progress=False'])
  assert plain.returncode == 0, plain.stderr
  for name in ('metrics.jsonl', 'summary.json'):
    assert (victim / name).read_bytes() == (reference / name).read_bytes(), name

  aggregated = run([sys.executable, '-m', 'launch.aggregate', str(sweep),
                    '--metric=val/accuracy'])
  assert aggregated.returncode == 0, aggregated.stderr
  rows = [line.split(',') for line in (sweep / 'aggregate.csv').read_text().splitlines()]
  header = rows[0]
  for row in rows[1:]:
    runs = [t for t in tasks if t['point']['optimizer.learning_rate'] == row[0]]
    values = [json.loads((pathlib.Path(t['workdir']) / 'summary.json').read_text())
              ['test/accuracy'] for t in runs]
    mean = float(row[header.index('test/accuracy mean')])
    error = float(row[header.index('test/accuracy se')])
    assert mean == pytest.approx(np.mean(values))
    assert error == pytest.approx(np.std(values, ddof=1) / math.sqrt(len(values)))


def test_a_cancelled_task_checkpoints_and_stays_cancelled(tmp_path):
  """`scancel JOB` also sends SIGTERM, but with the job COMPLETING: the run stops
  with its checkpoint and the task is not requeued."""
  deadline = time.monotonic() + 240
  sweep = tmp_path / 'sweep'
  done = run([sys.executable, '-m', 'launch.sweep', f'--config={CONFIG}',
              f'--sweep=train.num_steps={2 * STEPS}', '--seeds=0', f'--workdir={sweep}',
              '--executor=slurm'])
  assert done.returncode == 0, done.stderr
  job = done.stdout.split('SLURM array job ')[1].split(':')[0]
  folder = pathlib.Path(json.loads((sweep / 'sweep.json').read_text())['tasks'][0]['workdir'])
  try:
    _wait(lambda: (folder / 'metrics.jsonl').exists(), 'the run to be mid-run', deadline, 0.2)
    subprocess.run(['scancel', job], timeout=20, check=False)
    _wait(lambda: not _squeue(job, '%i'), 'the job to end', deadline)
    time.sleep(3)
    assert not _squeue(job, '%i'), 'a cancelled task came back'
  finally:
    subprocess.run(['scancel', job], timeout=20, check=False)
  log = (sweep / 'slurm' / f'{job}_0.out').read_text()
  assert '(cancelled): the run stopped' in log and 'requeueing' not in log, log
  assert not (folder / 'summary.json').exists()


def test_two_processes_per_task_match_one_process_with_two_devices(tmp_path):
  """--processes_per_task=2: one run of two jax.distributed processes (srun, one
  CPU device each); its records equal, byte for byte, a single process's with two
  devices (the same global batch, the same mesh size)."""
  sweep = tmp_path / 'sweep'
  done = run([sys.executable, '-m', 'launch.sweep', f'--config={CONFIG}',
              '--sweep=train.num_steps=300', '--seeds=0', f'--workdir={sweep}',
              '--executor=slurm', '--processes_per_task=2', '--wait'], timeout=300)
  assert done.returncode == 0, done.stdout + done.stderr
  task = json.loads((sweep / 'sweep.json').read_text())['tasks'][0]
  folder = pathlib.Path(task['workdir'])
  manifest = json.loads((folder / 'manifest.json').read_text())
  assert manifest['devices']['process_count'] == 2
  single = tmp_path / 'single'
  plain = run([*task['command'][:4], f'--workdir={single}', *task['command'][5:],
               '--config.progress=False'], devices=2)
  assert plain.returncode == 0, plain.stderr
  assert (folder / 'metrics.jsonl').read_bytes() == (single / 'metrics.jsonl').read_bytes()
