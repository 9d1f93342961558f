"""Two local processes under jax.distributed (gloo), 2 CPU devices each, against
one process with 4: the same run. The classifier's exact mode (dispatch=groups)
gives byte-identical records and parameters; its fast mode (scan) gives
bit-identical test metrics, and training metrics, reduced across processes by
gloo in another order than in-process, that agree to float32 rounding. RL seeds
sharded over both processes and a vmapped grid study give byte-identical
records. Process 0 alone writes records; the checkpoints are multi-process, and a
stopped 2-process run resumes to the very records of an uninterrupted one."""
from __future__ import annotations

import functools
import json
import socket
import subprocess
import sys

import pytest

from tests.helpers import classify_command, env_with_devices, REPO

SHORT = ('--config.train.num_steps=300', '--config.train.eval_every=100',
         '--config.checkpoint_every=100', '--config.steps_per_dispatch=100')


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _study_command(config: str, workdir, *overrides) -> list[str]:
  return [sys.executable, '-m', 'experiments.main', f'--config={config}', f'--workdir={workdir}',
          *overrides]


def _two_processes(workdir, *extra, command=None) -> list[subprocess.CompletedProcess]:
  """Two processes of 2 devices each; `command(workdir, *flags)` builds each one's
  command (default: the MLP classifier with SHORT)."""
  command = command or (lambda folder, *flags: classify_command(folder, *SHORT, *flags))
  port = _free_port()
  processes = [subprocess.Popen(
      command(workdir, *extra, f'--coordinator_address=localhost:{port}',
              '--num_processes=2', f'--process_id={rank}'),
      cwd=REPO, env=env_with_devices(2), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for rank in (0, 1)]
  done = []
  try:
    for process in processes:
      out, err = process.communicate(timeout=300)  # a hang fails the test
      done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
  finally:
    for process in processes:
      process.kill()
  return done


def _records(workdir) -> list[dict]:
  return [json.loads(line) for line in (workdir / 'metrics.jsonl').read_text().splitlines()]


@pytest.mark.slow
def test_two_processes_of_two_devices_train_the_run_of_one_process_of_four(tmp_path):
  one = subprocess.run(classify_command(tmp_path / 'one', *SHORT), cwd=REPO,
                       env=env_with_devices(4), capture_output=True, text=True, timeout=300)
  assert one.returncode in (0, 3), one.stderr
  for done in _two_processes(tmp_path / 'two'):
    assert done.returncode in (0, 3), done.stderr[-2000:]
  manifest = json.loads((tmp_path / 'two' / 'manifest.json').read_text())
  assert manifest['devices']['process_count'] == 2 and manifest['devices']['count'] == 4
  single, double = _records(tmp_path / 'one'), _records(tmp_path / 'two')
  assert [r['step'] for r in double] == [100, 200, 300]  # written once, by process 0
  for a, b in zip(single, double):
    assert {k: v for k, v in a.items() if k.startswith('test/')} == {
        k: v for k, v in b.items() if k.startswith('test/')}
    for key in a:
      assert b[key] == pytest.approx(a[key], rel=1e-6), key
  # (A 2-process classifier stopped and resumed: the exact mode's test below.)


@pytest.mark.slow
def test_the_exact_mode_on_two_processes_is_byte_identical_to_one_process(tmp_path):
  """dispatch=groups: each process computes its devices' groups, the group
  gradients are all-gathered (a copy) and added in group order on every device."""
  exact = ('--config.dispatch=groups',)
  one = subprocess.run(classify_command(tmp_path / 'one', *SHORT, *exact), cwd=REPO,
                       env=env_with_devices(4), capture_output=True, text=True, timeout=300)
  assert one.returncode in (0, 3), one.stderr[-2000:]
  for done in _two_processes(tmp_path / 'two', *exact):
    assert done.returncode in (0, 3), done.stderr[-2000:]
  assert [r['step'] for r in _records(tmp_path / 'two')] == [100, 200, 300]
  assert (tmp_path / 'one' / 'metrics.jsonl').read_bytes() == (
      tmp_path / 'two' / 'metrics.jsonl').read_bytes()
  digests = subprocess.run(
      [sys.executable, '-c', _PARAM_DIGEST, str(tmp_path / 'one'), str(tmp_path / 'two')],
      cwd=REPO, env=env_with_devices(1), capture_output=True, text=True, timeout=120)
  first, second = digests.stdout.split()
  assert first == second, 'the checkpointed parameters differ'

  for done in _two_processes(tmp_path / 'resumed', *exact, '--max_chunks=1'):
    assert done.returncode == 0, done.stderr[-2000:]
  assert [r['step'] for r in _records(tmp_path / 'resumed')] == [100]
  for done in _two_processes(tmp_path / 'resumed', *exact):
    assert done.returncode in (0, 3), done.stderr[-2000:]
  assert (tmp_path / 'resumed' / 'metrics.jsonl').read_bytes() == (
      tmp_path / 'one' / 'metrics.jsonl').read_bytes()


# The sha256 of each run's last checkpointed parameters, restored on one device.
_PARAM_DIGEST = """
import hashlib, sys, jax, numpy as np
from dl_course.runs import load_run
for workdir in sys.argv[1:]:
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(load_run(workdir).state.params):
    digest.update(np.asarray(leaf).tobytes())
  print(digest.hexdigest())
"""


@pytest.mark.slow
@pytest.mark.parametrize('config,overrides', [
    ('experiments/configs/rl/ppo_cartpole.py:quick',
     ('--config.num_seeds=4', '--config.total_timesteps=50000', '--config.chunk_updates=25')),
    ('experiments/configs/implicit_regularisation/double_descent.py:quick', ()),
], ids=['rl_seeds_sharded_over_processes', 'grid_study'])
def test_rl_seeds_and_a_grid_study_on_two_processes_match_one_process_byte_for_byte(
    tmp_path, config, overrides):
  """4 PPO seeds, one per device, two on each process (their metrics gathered
  across processes); and a grid study, whose runs every process computes on its
  own first device (engine/grid.py). Both also stop and resume across processes."""
  one = subprocess.run(_study_command(config, tmp_path / 'one', *overrides), cwd=REPO,
                       env=env_with_devices(4), capture_output=True, text=True, timeout=300)
  assert one.returncode == 0, one.stderr[-2000:]
  command = functools.partial(_study_command, config)
  for done in _two_processes(tmp_path / 'two', *overrides, command=command):
    assert done.returncode == 0, done.stderr[-2000:]
  for name in ('metrics.jsonl', 'summary.json'):
    assert (tmp_path / 'one' / name).read_bytes() == (tmp_path / 'two' / name).read_bytes(), name
  for done in _two_processes(tmp_path / 'resumed', *overrides, '--max_chunks=1',
                             command=command):
    assert done.returncode == 0, done.stderr[-2000:]
  assert not (tmp_path / 'resumed' / 'summary.json').exists()
  for done in _two_processes(tmp_path / 'resumed', *overrides, command=command):
    assert done.returncode == 0, done.stderr[-2000:]
  assert (tmp_path / 'resumed' / 'metrics.jsonl').read_bytes() == (
      tmp_path / 'one' / 'metrics.jsonl').read_bytes()


def test_distributed_flags_go_together(tmp_path):
  from tests.helpers import run  # pylint: disable=import-outside-toplevel
  from tests.test_cli import assert_one_line_error  # pylint: disable=import-outside-toplevel
  assert_one_line_error(run(classify_command(tmp_path, '--num_processes=2')),
                        '--coordinator_address, --num_processes and --process_id go together')
  assert_one_line_error(run(classify_command(tmp_path, '--coordinator_address=localhost:1',
                                             '--num_processes=2', '--process_id=2')),
                        '--process_id=2 is not allowed: 0 to 1')
