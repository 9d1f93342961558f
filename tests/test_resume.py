"""Exact resume across processes, SIGKILL during a save, SIGTERM, 1 vs 4 devices.

Every run here is a real `python -m experiments.main` process; 4-device runs
use fake CPU devices (--xla_force_host_platform_device_count=4).
"""
import json
import signal
import sys
import time

import pytest

from dl_course.engine.checkpoint import read_checkpoint
from tests.helpers import assert_trees_bitwise_equal, classify_command, popen, run

SHORT = ('--config.num_steps=600', '--config.eval_every=100', '--config.checkpoint_every=200',
         '--config.steps_per_dispatch=50')
# Runs experiments.main, but SIGKILLs the process right after the async save of
# step 400 has started: the checkpoint is then half-written.
KILL_DURING_SAVE = '''
import os, signal, sys
from dl_course.engine import checkpoint
original = checkpoint.Checkpointer.save
def save_then_die(self, step, state, loop_state):
  original(self, step, state, loop_state)
  if step == 400:
    os.kill(os.getpid(), signal.SIGKILL)
checkpoint.Checkpointer.save = save_then_die
from experiments import cli, main
sys.argv = ['main'] + sys.argv[1:]
cli.run(main.main)
'''


def final_state_and_metrics(workdir):
  return read_checkpoint(workdir / 'checkpoints'), (workdir / 'metrics.jsonl').read_text()


@pytest.fixture(scope='module')
def straight_runs(tmp_path_factory):
  """Uninterrupted reference runs on 1 and 4 devices."""
  runs = {}
  for devices in (1, 4):
    workdir = tmp_path_factory.mktemp(f'straight{devices}')
    done = run(classify_command(workdir, *SHORT), devices=devices)
    assert done.returncode == 0, done.stderr
    runs[devices] = final_state_and_metrics(workdir)
  return runs


@pytest.mark.parametrize('devices', [1, 4])
def test_sigkill_during_save_resumes_bit_identically(tmp_path, straight_runs, devices):
  killed = run([sys.executable, '-c', KILL_DURING_SAVE,
                *classify_command(tmp_path, *SHORT)[3:]], devices=devices)
  assert killed.returncode == -signal.SIGKILL
  assert read_checkpoint(tmp_path / 'checkpoints')[0] == 200  # 400 never completed.
  resumed = run(classify_command(tmp_path, *SHORT), devices=devices)
  assert resumed.returncode == 0, resumed.stderr
  (step, state), metrics = final_state_and_metrics(tmp_path)
  (want_step, want_state), want_metrics = straight_runs[devices]
  assert step == want_step == 600
  assert_trees_bitwise_equal(state, want_state)
  assert metrics == want_metrics
  launches = json.loads((tmp_path / 'manifest.json').read_text())['launches']
  assert [launch['start_step'] for launch in launches] == [0, 200]


def test_sigterm_saves_the_current_step_exits_zero_and_resumes_exactly(tmp_path):
  long = ('--config.num_steps=4000', '--config.eval_every=100', '--config.checkpoint_every=2000',
          '--config.steps_per_dispatch=50')
  reference = tmp_path / 'reference'
  done = run(classify_command(reference, *long))
  assert done.returncode == 0, done.stderr

  workdir = tmp_path / 'stopped'
  process = popen(classify_command(workdir, *long))
  metrics = workdir / 'metrics.jsonl'
  deadline = time.time() + 120
  while not (metrics.exists() and metrics.read_text().strip()) and time.time() < deadline:
    time.sleep(0.02)
  process.send_signal(signal.SIGTERM)
  stdout, stderr = process.communicate(timeout=120)
  assert process.returncode == 0, stderr
  assert 'stopped by SIGTERM at step' in stdout
  stopped_at = int(stdout.split('stopped by SIGTERM at step ')[1].split(';')[0])
  assert 0 < stopped_at < 4000
  assert read_checkpoint(workdir / 'checkpoints')[0] == stopped_at

  resumed = run(classify_command(workdir, *long))
  assert resumed.returncode == 0, resumed.stderr
  (step, state), text = final_state_and_metrics(workdir)
  (want_step, want_state), want_text = final_state_and_metrics(reference)
  assert step == want_step == 4000
  assert_trees_bitwise_equal(state, want_state)
  assert text == want_text


def test_one_and_four_devices_agree_for_20_steps(tmp_path):
  losses = {}
  for devices in (1, 4):
    workdir = tmp_path / f'd{devices}'
    done = run(classify_command(workdir, '--config.num_steps=20', '--config.eval_every=1',
                                '--config.steps_per_dispatch=5'), devices=devices)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (workdir / 'metrics.jsonl').read_text().splitlines()]
    assert json.loads((workdir / 'manifest.json').read_text())['devices']['count'] == devices
    losses[devices] = [r['train/loss'] for r in records] + [records[-1]['test/loss']]
  assert len(losses[1]) == 21
  assert losses[1] == pytest.approx(losses[4], abs=1e-5)
