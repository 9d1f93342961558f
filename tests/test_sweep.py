"""launch.sweep with the local and the vmap executors, and launch.aggregate against
hand-computed means and standard errors."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, run
from tests.test_cli import assert_one_line_error

SWEEP = [sys.executable, '-m', 'launch.sweep']
AGGREGATE = [sys.executable, '-m', 'launch.aggregate']


def _fake_sweep(root, results: dict):
  """A sweep.json and metrics.jsonl files with chosen last records."""
  tasks = []
  for (lr, seed), record in results.items():
    folder = root / f'optimizer.learning_rate={lr}' / f'seed={seed}'
    folder.mkdir(parents=True)
    lines = [{'step': 50, 'train/loss': 9.0}, {'step': 100, **record}]
    (folder / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in lines))
    tasks.append({'point': {'optimizer.learning_rate': lr}, 'seed': seed, 'workdir': str(folder),
                  'command': []})
  (root / 'sweep.json').write_text(json.dumps(
      {'config': 'x', 'axes': {'optimizer.learning_rate': sorted({lr for lr, _ in results})},
       'seeds': sorted({s for _, s in results}), 'tasks': tasks}))


def test_aggregate_means_errors_and_best_point_by_hand(tmp_path):
  _fake_sweep(tmp_path, {
      ('0.001', 0): {'val/accuracy': 0.60, 'test/accuracy': 0.50},
      ('0.001', 1): {'val/accuracy': 0.70, 'test/accuracy': 0.52},
      ('0.001', 2): {'val/accuracy': 0.80, 'test/accuracy': 0.54},
      ('0.01', 0): {'val/accuracy': 0.72, 'test/accuracy': 0.90},
      ('0.01', 1): {'val/accuracy': 0.74, 'test/accuracy': 0.91},
      ('0.01', 2): {'val/accuracy': 0.76, 'test/accuracy': 0.92}})
  done = run([*AGGREGATE, str(tmp_path)])
  assert done.returncode == 0, done.stderr
  rows = (tmp_path / 'aggregate.csv').read_text().splitlines()
  assert rows[0] == ('optimizer.learning_rate,seeds,val/accuracy mean,val/accuracy se,'
                     'test/accuracy mean,test/accuracy se,train/loss mean,train/loss se')
  first = rows[1].split(',')
  assert first[:2] == ['0.001', '3']
  # mean 0.7; sample s.d. 0.1; s.e. 0.1 / sqrt(3)
  assert float(first[2]) == pytest.approx(0.7)
  assert float(first[3]) == pytest.approx(0.1 / math.sqrt(3))
  second = rows[2].split(',')
  assert float(second[2]) == pytest.approx(0.74)
  assert float(second[3]) == pytest.approx(0.02 / math.sqrt(3))
  assert float(second[6]) == pytest.approx(9.0) and float(second[7]) == 0.0
  # chosen on validation rows (0.74 > 0.70), not on the test split
  assert 'best point by val/accuracy (max): optimizer.learning_rate=0.01: 0.74' in done.stdout
  assert (tmp_path / 'aggregate_val_accuracy.png').exists()
  by_test = run([*AGGREGATE, str(tmp_path), '--metric=train/loss', '--mode=min'])
  assert 'best point by train/loss (min)' in by_test.stdout
  assert_one_line_error(run([*AGGREGATE, str(tmp_path), '--metric=val/loss']),
                        "--metric='val/loss' is not allowed: the runs logged")


@pytest.mark.slow
def test_a_local_sweep_runs_every_point_and_seed_and_a_rerun_skips_finished_ones(tmp_path):
  workdir = tmp_path / 'sweep'
  command = [*SWEEP, '--config=experiments/configs/mnist1d/logreg.py:quick',
             '--sweep=optimizer.learning_rate=0.003,0.03', '--seeds=0:2', '--workers=2',
             f'--workdir={workdir}', '--run_timeout=280']
  done = run([*command], timeout=600)
  assert done.returncode == 0, done.stdout + done.stderr
  folders = sorted(p.parent.relative_to(workdir).as_posix() for p in workdir.rglob('summary.json'))
  assert folders == ['optimizer.learning_rate=0.003/seed=0', 'optimizer.learning_rate=0.003/seed=1',
                     'optimizer.learning_rate=0.03/seed=0', 'optimizer.learning_rate=0.03/seed=1']
  config = json.loads((workdir / 'optimizer.learning_rate=0.03/seed=1/config.json').read_text())
  assert config['seed'] == 1 and config['optimizer']['learning_rate'] == 0.03
  again = run([*command])
  assert again.returncode == 0 and again.stdout.count(': done') == 4
  aggregated = run([*AGGREGATE, str(workdir), '--metric=test/accuracy'])
  assert aggregated.returncode == 0, aggregated.stderr
  assert aggregated.stdout.count('| 2 |') == 2  # two points, two seeds each


@pytest.mark.slow
def test_a_vmapped_sweep_trains_the_lone_runs_and_resumes_byte_for_byte(tmp_path):
  """4 runs (2 learning rates x 2 seeds) as one vmapped job: each folder holds what
  the local executor's lone run writes, with the same config.json and the same
  numbers up to float rounding (the batched matmuls' shapes differ); a job
  stopped after 2 chunks resumes to the very records of an uninterrupted one."""
  flags_ = ['--config=experiments/configs/mnist1d/mlp.py:quick',
            '--sweep=optimizer.learning_rate=1e-3,3e-3', '--seeds=0:2']
  vmapped, lone, resumed = tmp_path / 'vmapped', tmp_path / 'lone', tmp_path / 'resumed'
  done = run([*SWEEP, *flags_, f'--workdir={vmapped}', '--executor=vmap'], timeout=300)
  assert done.returncode == 0, done.stdout + done.stderr
  assert '4 runs trained as one vmapped job' in done.stdout
  done = run([*SWEEP, *flags_, f'--workdir={lone}', '--workers=2'], timeout=600)
  assert done.returncode == 0, done.stdout + done.stderr
  folders = sorted(p.parent.relative_to(lone).as_posix() for p in lone.rglob('summary.json'))
  assert len(folders) == 4
  for folder in folders:
    assert (vmapped / folder / 'config.json').read_bytes() == (
        lone / folder / 'config.json').read_bytes()
    ours = [json.loads(l) for l in (vmapped / folder / 'metrics.jsonl').read_text().splitlines()]
    theirs = [json.loads(l) for l in (lone / folder / 'metrics.jsonl').read_text().splitlines()]
    assert [sorted(r) for r in ours] == [sorted(r) for r in theirs] and len(ours) == 3
    for a, b in zip(ours, theirs):
      for key in b:
        assert a[key] == pytest.approx(b[key], rel=1e-4), (folder, key)
    assert (vmapped / folder / 'learning_curves.png').exists()
    assert json.loads((vmapped / folder / 'manifest.json').read_text())['seed'] == int(
        folder[-1])

  stopped = run([*SWEEP, *flags_, f'--workdir={resumed}', '--executor=vmap', '--max_chunks=2'],
                timeout=300)
  assert stopped.returncode == 0 and 'run the same command to resume' in stopped.stdout, (
      stopped.stdout + stopped.stderr)
  assert not list(resumed.rglob('summary.json'))
  again = run([*SWEEP, *flags_, f'--workdir={resumed}', '--executor=vmap'], timeout=300)
  assert again.returncode == 0, again.stdout + again.stderr
  for folder in folders:
    assert (resumed / folder / 'metrics.jsonl').read_bytes() == (
        vmapped / folder / 'metrics.jsonl').read_bytes(), folder
  aggregated = run([*AGGREGATE, str(resumed)])
  assert aggregated.returncode == 0 and aggregated.stdout.count('| 2 |') == 2, aggregated.stderr


@pytest.mark.parametrize('flags_,expected', [
    (['--sweep=optimizer.learning_rate'], "--sweep='optimizer.learning_rate' is not allowed"),
    (['--sweep=x=1', '--seeds=3:1'], "--seeds='3:1' is not allowed"),
    (['--sweep=optimizer.lr=1,2'], "unknown config key 'lr'"),
    (['--sweep=train.batch_size=50,100', '--executor=vmap'],
     '--sweep=train.batch_size=... is not allowed with --executor=vmap: its runs must share '
     'shapes, so it sweeps optimizer.learning_rate and --seeds'),
    (['--max_chunks=1'], '--max_chunks goes with --executor=vmap'),
], ids=['no values', 'empty seed range', 'unknown key', 'vmap over shapes', 'max_chunks alone'])
def test_bad_sweeps_are_one_line(tmp_path, flags_, expected):
  assert_one_line_error(run([*SWEEP, '--config=experiments/configs/mnist1d/logreg.py:quick',
                             f'--workdir={tmp_path}', *flags_]), expected)


def test_the_vmap_executor_refuses_a_study_other_than_classification(tmp_path):
  assert_one_line_error(
      run([*SWEEP, '--config=experiments/configs/uncertainty/uci.py:quick', '--seeds=0:2',
           f'--workdir={tmp_path}', '--executor=vmap']),
      '--config=experiments/configs/uncertainty/uci.py:quick is not allowed with '
      '--executor=vmap: it trains classification configs')


def test_the_slurm_executor_without_sbatch_is_one_line(tmp_path):
  """Without sbatch on PATH (here: only the interpreter's folder), one line saying
  how to get a cluster; nothing submitted."""
  env = {**os.environ, 'PATH': os.path.dirname(sys.executable)}
  done = subprocess.run([*SWEEP, '--config=experiments/configs/mnist1d/logreg.py:quick',
                         f'--workdir={tmp_path}', '--executor=slurm'], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=120, check=False)
  assert_one_line_error(done, '--executor=slurm needs sbatch on PATH')
  assert not (tmp_path / 'slurm').exists()
  assert_one_line_error(run([*SWEEP, '--config=experiments/configs/mnist1d/logreg.py:quick',
                             f'--workdir={tmp_path}', '--processes_per_task=2']),
                        '--processes_per_task > 1 needs --executor=slurm')


def test_a_sweep_task_without_its_sweep_json_is_one_line(tmp_path):
  env = {**os.environ, 'SLURM_ARRAY_TASK_ID': '0'}
  done = subprocess.run([sys.executable, '-m', 'launch.sweep_task', str(tmp_path / 'sweep.json')],
                        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
  assert_one_line_error(done, 'sweep.json cannot be read as a sweep.json')
