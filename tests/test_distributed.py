"""Two local processes under jax.distributed (gloo), 2 CPU devices each, against
one process with 4: the same run. Test metrics come out bit-identical; the
training metrics, reduced across processes by gloo in another order than
in-process, agree to float32 rounding. Process 0 alone writes records; the
checkpoints are multi-process, and a stopped 2-process run resumes to the very
records of an uninterrupted one."""
from __future__ import annotations

import json
import socket
import subprocess

import pytest

from tests.helpers import classify_command, env_with_devices, REPO

SHORT = ('--config.train.num_steps=300', '--config.train.eval_every=100',
         '--config.checkpoint_every=100', '--config.steps_per_dispatch=100')


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _two_processes(workdir, *extra) -> list[subprocess.CompletedProcess]:
  port = _free_port()
  processes = [subprocess.Popen(
      classify_command(workdir, *SHORT, *extra, f'--coordinator_address=localhost:{port}',
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

  stopped = _two_processes(tmp_path / 'resumed', '--max_chunks=1')
  assert all(d.returncode == 0 for d in stopped), stopped[0].stderr[-2000:]
  assert [r['step'] for r in _records(tmp_path / 'resumed')] == [100]
  for done in _two_processes(tmp_path / 'resumed'):
    assert done.returncode in (0, 3), done.stderr[-2000:]
  assert (tmp_path / 'resumed' / 'metrics.jsonl').read_bytes() == (
      tmp_path / 'two' / 'metrics.jsonl').read_bytes()

  for done in _two_processes(tmp_path / 'groups', '--config.dispatch=groups'):
    assert done.returncode == 2 and 'Traceback' not in done.stderr, done.stderr[-2000:]
    assert "config.dispatch='groups' is not allowed: scan or loop in a multi-process run" in (
        done.stderr)


def test_distributed_flags_go_together(tmp_path):
  from tests.helpers import run  # pylint: disable=import-outside-toplevel
  from tests.test_cli import assert_one_line_error  # pylint: disable=import-outside-toplevel
  assert_one_line_error(run(classify_command(tmp_path, '--num_processes=2')),
                        '--coordinator_address, --num_processes and --process_id go together')
  assert_one_line_error(run(classify_command(tmp_path, '--coordinator_address=localhost:1',
                                             '--num_processes=2', '--process_id=2')),
                        '--process_id=2 is not allowed: 0 to 1')
