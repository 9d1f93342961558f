"""Exact resume across processes, SIGKILL during a save, SIGTERM, 1, 2 and 4 devices.

Every run here is a real `python -m experiments.main` process; 4-device runs
use fake CPU devices (--xla_force_host_platform_device_count=4).
"""
import json
import signal
import sys
import time

import jax
import numpy as np
import pytest

import dl_course
from dl_course.engine.checkpoint import read_checkpoint
from dl_course.implicit import networks
from tests.helpers import (assert_finished, assert_trees_bitwise_equal, classify_command, popen,
                           run)

SHORT = ('--config.train.num_steps=600', '--config.train.eval_every=100',
         '--config.checkpoint_every=200', '--config.steps_per_dispatch=50')
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
    assert_finished(done)
    runs[devices] = final_state_and_metrics(workdir)
  return runs


@pytest.mark.parametrize('devices', [1, 4])
def test_sigkill_during_save_resumes_bit_identically(tmp_path, straight_runs, devices):
  killed = run([sys.executable, '-c', KILL_DURING_SAVE,
                *classify_command(tmp_path, *SHORT)[3:]], devices=devices)
  assert killed.returncode == -signal.SIGKILL
  assert read_checkpoint(tmp_path / 'checkpoints')[0] == 200  # 400 never completed.
  resumed = run(classify_command(tmp_path, *SHORT), devices=devices)
  assert_finished(resumed)
  (step, state), metrics = final_state_and_metrics(tmp_path)
  (want_step, want_state), want_metrics = straight_runs[devices]
  assert step == want_step == 600
  assert_trees_bitwise_equal(state, want_state)
  assert metrics == want_metrics
  launches = json.loads((tmp_path / 'manifest.json').read_text())['launches']
  assert [launch['start_step'] for launch in launches] == [0, 200]


@pytest.mark.slow
def test_ctrl_c_saves_the_current_step_exits_130_and_resumes_exactly(tmp_path):
  """SIGINT (Ctrl-C) takes SIGTERM's path (engine/loop.py StopRequest): the
  staged-study and RL tests send SIGTERM, this one SIGINT."""
  long = ('--config.train.num_steps=4000', '--config.train.eval_every=100',
          '--config.checkpoint_every=2000', '--config.steps_per_dispatch=50')
  reference = tmp_path / 'reference'
  done = run(classify_command(reference, *long))
  assert_finished(done)

  workdir = tmp_path / 'stopped'
  process = popen(classify_command(workdir, *long))
  metrics = workdir / 'metrics.jsonl'
  deadline = time.time() + 120
  while not (metrics.exists() and metrics.read_text().strip()) and time.time() < deadline:
    time.sleep(0.02)
  process.send_signal(signal.SIGINT)
  stdout, stderr = process.communicate(timeout=120)
  assert process.returncode == 130, stderr
  assert 'Traceback' not in stderr and 'KeyboardInterrupt' not in stderr, stderr
  assert 'stopped by SIGINT at step' in stdout
  stopped_at = int(stdout.split('stopped by SIGINT at step ')[1].split(';')[0])
  assert 0 < stopped_at < 4000
  assert read_checkpoint(workdir / 'checkpoints')[0] == stopped_at

  resumed = run(classify_command(workdir, *long))
  assert_finished(resumed)
  (step, state), text = final_state_and_metrics(workdir)
  (want_step, want_state), want_text = final_state_and_metrics(reference)
  assert step == want_step == 4000
  assert_trees_bitwise_equal(state, want_state)
  assert text == want_text


@pytest.mark.slow
def test_exact_mode_is_bit_identical_on_one_two_and_four_devices_after_300_steps(tmp_path):
  """dispatch='groups': the same global batch gives the same bits whatever the
  device count; the 4-device run is also stopped by --max_chunks and resumed."""
  exact = ('--config.dispatch=groups', '--config.batch_groups=4', '--config.train.num_steps=300',
           '--config.train.eval_every=100', '--config.checkpoint_every=300')
  results = {}
  for devices in (1, 2, 4):
    workdir = tmp_path / f'd{devices}'
    if devices == 4:
      stopped = run(classify_command(workdir, *exact, '--max_chunks=2'), devices=devices)
      assert stopped.returncode == 0, stopped.stderr
      assert 'stopped by --max_chunks at step 200' in stopped.stdout
    done = run(classify_command(workdir, *exact), devices=devices)
    assert_finished(done)
    assert json.loads((workdir / 'manifest.json').read_text())['devices']['count'] == devices
    results[devices] = final_state_and_metrics(workdir)
  (step, state), metrics = results[1]
  assert step == 300 and len(metrics.splitlines()) == 3
  for devices in (2, 4):
    (other_step, other_state), other_metrics = results[devices]
    assert other_step == step
    assert other_metrics == metrics
    assert_trees_bitwise_equal(other_state, state)


def test_exact_mode_refuses_a_group_count_the_devices_cannot_share(tmp_path):
  done = run(classify_command(tmp_path, '--config.dispatch=groups', '--config.batch_groups=2'),
             devices=4)
  assert done.returncode == 2
  assert done.stderr.strip().splitlines() == [
      'error: config.batch_groups=2 is not allowed: a multiple of the device count (4) so every '
      'device holds whole groups']


@pytest.mark.slow
def test_sigterm_stops_a_staged_study_and_the_same_command_finishes_it_byte_identically(
    tmp_path):
  """Double descent (a unit per width, checkpoints within each): SIGTERM once the
  first width is done; the rerun skips it, resumes the second from its last
  checkpoint and ends with the uninterrupted run's metrics.jsonl and summary.
  load_run then gives back each width's MLP, whose test error is its row's."""
  def command(workdir):
    return [sys.executable, '-m', 'experiments.main',
            '--config=experiments/configs/implicit_regularisation/double_descent.py:quick',
            f'--workdir={workdir}', '--config.num_train=500', '--config.train.epochs=20',
            '--config.train.eval_every_epochs=5', '--config.num_widths=2']
  reference = tmp_path / 'reference'
  done = run(command(reference))
  assert_finished(done)

  workdir = tmp_path / 'stopped'
  process = popen(command(workdir))
  deadline = time.time() + 120
  while not list(workdir.glob('units/*.json')) and time.time() < deadline:
    time.sleep(0.02)
  process.send_signal(signal.SIGTERM)
  stdout, stderr = process.communicate(timeout=120)
  assert process.returncode == 0, stderr
  assert 'stopped by SIGTERM after step ' in stdout, stdout
  assert not (workdir / 'summary.json').exists()

  resumed = run(command(workdir))
  assert_finished(resumed)
  for name in ('metrics.jsonl', 'summary.json'):
    assert (workdir / name).read_bytes() == (reference / name).read_bytes()

  run_back = dl_course.load_run(workdir)
  rows = run_back.summary['rows']
  assert sorted(run_back.stages) == sorted(f'width_{r["width"]}' for r in rows)
  x_test, y_test, _ = networks.subset(run_back.config.data.name, 'test', 0)
  for row in rows:
    stage = run_back.stages[f'width_{row["width"]}']
    assert stage.step == 20 * 500 // 100
    params = jax.tree.map(lambda p: p[0], stage.params)  # seed 0
    logits = stage.model.apply({'params': params}, x_test)
    assert float(np.mean(np.argmax(logits, -1) != y_test)) == pytest.approx(
        row['test_error'][0], abs=1e-6)
