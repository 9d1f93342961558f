"""Faults a run must survive: damaged checkpoints, a second process on the workdir."""
import pathlib
import shutil
import signal
import time

import pytest

from dl_course.classification import train_and_evaluate
from dl_course.engine.checkpoint import SEAL
from dl_course.errors import UserError
from tests.helpers import classify_command, popen, run
from tests.test_cli import assert_one_line_error
from tests.test_engine import tiny_config


def _data_file(step_dir: pathlib.Path) -> pathlib.Path:
  """The largest array file of a step's state."""
  return max((p for p in (step_dir / 'state').rglob('*') if p.is_file() and p.parent.name == 'd'),
             key=lambda p: p.stat().st_size)


def _truncate(path: pathlib.Path):
  path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def _flip(path: pathlib.Path):
  data = bytearray(path.read_bytes())
  data[len(data) // 2] ^= 0xFF
  path.write_bytes(bytes(data))


DAMAGE = {
    'data file truncated': lambda step: _truncate(_data_file(step)),
    'data file deleted': lambda step: _data_file(step).unlink(),
    'data file byte-flipped': lambda step: _flip(_data_file(step)),
    'metadata deleted': lambda step: (step / 'state' / '_METADATA').unlink(),
    'metadata truncated': lambda step: _truncate(step / 'state' / '_METADATA'),
    'loop state deleted': lambda step: shutil.rmtree(step / 'loop'),
    # A step whose seal was never written (the process died right after the
    # save): read back whole, the state's SHA-256 catches the flip.
    'unsealed, data file byte-flipped': lambda step: (
        (step / SEAL).unlink(), _flip(_data_file(step))),
}


# A run with checkpoints at 20, 40 and 60, through the real entry point: each
# damage test reruns the same command in a damaged copy of its workdir.
TINY = ('--config.train.num_steps=60', '--config.train.eval_every=20',
        '--config.checkpoint_every=20', '--config.steps_per_dispatch=10',
        '--config.progress=False')


@pytest.fixture(scope='module')
def finished(tmp_path_factory):
  workdir = tmp_path_factory.mktemp('finished')
  done = run(classify_command(workdir, *TINY), timeout=300)
  assert done.returncode == 0, done.stderr
  return workdir


@pytest.mark.parametrize('damage', DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_newest_checkpoint_falls_back_to_the_last_good_one(finished, tmp_path, damage):
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  (workdir / 'lock').unlink()
  damage(workdir / 'checkpoints' / '60')
  done = run(classify_command(workdir, *TINY), timeout=300)
  assert done.returncode == 0, done.stderr
  assert 'Traceback' not in done.stderr, done.stderr
  warnings = [line for line in done.stderr.splitlines() if line.startswith('warning')]
  assert len(warnings) == 1, done.stderr
  assert 'checkpoints/60 is damaged' in warnings[0] and 'resuming from step 40' in warnings[0]
  # The rerun recomputed steps 40-60: the same records as the run before the damage.
  assert (workdir / 'metrics.jsonl').read_bytes() == (finished / 'metrics.jsonl').read_bytes()
  assert (workdir / 'checkpoints' / 'damaged_60').is_dir()
  assert (workdir / 'checkpoints' / '60' / 'commit_success.txt').exists()


def test_when_no_checkpoint_reads_back_the_run_stops_with_one_line_and_touches_nothing(
    finished, tmp_path):
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  for step in ('20', '40', '60'):
    (workdir / 'checkpoints' / step / 'state' / '_METADATA').unlink()
  metrics = (workdir / 'metrics.jsonl').read_bytes()
  with pytest.raises(UserError, match=r'no checkpoint in .*checkpoints reads back \(step 60: '):
    train_and_evaluate(tiny_config(progress=False), workdir)
  assert (workdir / 'metrics.jsonl').read_bytes() == metrics
  assert sorted(p.name for p in (workdir / 'checkpoints').iterdir()) == ['20', '40', '60']


def test_a_second_run_on_a_live_workdir_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path):
  workdir = tmp_path / 'run'
  long = ('--config.train.num_steps=1000000', '--config.progress=False')
  first = popen(classify_command(workdir, *long))
  try:
    lock = workdir / 'lock'
    deadline = time.time() + 120
    while not (lock.exists() and lock.read_text().strip()) and time.time() < deadline:
      time.sleep(0.05)
    second = run(classify_command(workdir, *long), timeout=120)
    assert_one_line_error(second, f'is in use by another run (pid {first.pid})')
    assert not (workdir / 'metrics.jsonl').exists() or first.poll() is None
  finally:
    first.kill()
    first.wait(timeout=60)
  # The killed run's flock went with it: the same command takes the workdir over.
  third = run(classify_command(workdir, *long, '--max_chunks=1'), timeout=300)
  assert third.returncode == 0, third.stderr
  assert 'in use' not in third.stderr


def _interrupt_then_resume(command, reference: pathlib.Path, workdir: pathlib.Path, sig,
                           code: int):
  """Runs `command` into `reference` whole, and into `workdir` with `sig` sent after
  the first record; the stopped run must say so, exit `code` with no traceback,
  and the same command must then finish with byte-identical records."""
  whole = run(command(reference), timeout=300)
  assert whole.returncode == 0, whole.stderr
  process = popen(command(workdir))
  metrics = workdir / 'metrics.jsonl'
  deadline = time.time() + 120
  while not (metrics.exists() and metrics.read_text().strip()) and time.time() < deadline:
    time.sleep(0.02)
  process.send_signal(sig)
  stdout, stderr = process.communicate(timeout=120)
  assert process.returncode == code, stderr
  assert f'stopped by {signal.Signals(sig).name}' in stdout, stdout
  assert 'Traceback' not in stderr and 'KeyboardInterrupt' not in stderr, stderr
  resumed = run(command(workdir), timeout=300)
  assert resumed.returncode == 0, resumed.stderr
  assert metrics.read_bytes() == (reference / 'metrics.jsonl').read_bytes()


def test_rl_under_sigterm_saves_says_so_and_resumes_bit_identically(tmp_path):
  from tests.test_rl import rl_command
  _interrupt_then_resume(lambda w: rl_command(w, '--config.total_timesteps=16384'),
                         tmp_path / 'whole',
                         tmp_path / 'stopped', signal.SIGTERM, 0)
