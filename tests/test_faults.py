"""Faults a run must survive and bad input it must refuse, through the real entry
points: what the user sees (exit code, one line, no traceback) and that nothing
is lost (records byte-identical to an uninterrupted run after recovery)."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

from dl_course.classification import train_and_evaluate
from dl_course.engine.checkpoint import SEAL
from dl_course.engine.loop import StopRequest
from dl_course.errors import UserError
from experiments.cli import EXIT_CLAIM_FAILED
from tests.helpers import MLP_QUICK, assert_finished, classify_command, popen, run
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
  assert_finished(done)
  return workdir


@pytest.mark.parametrize('damage', DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_newest_checkpoint_falls_back_to_the_last_good_one(finished, tmp_path, damage):
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  (workdir / 'lock').unlink()
  damage(workdir / 'checkpoints' / '60')
  done = run(classify_command(workdir, *TINY), timeout=300)
  assert_finished(done)
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
  assert_finished(whole)
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
  assert_finished(resumed)
  assert metrics.read_bytes() == (reference / 'metrics.jsonl').read_bytes()


@pytest.mark.slow
def test_rl_under_sigterm_saves_says_so_and_resumes_bit_identically(tmp_path):
  from tests.test_rl import rl_command
  _interrupt_then_resume(lambda w: rl_command(w, '--config.total_timesteps=16384'),
                         tmp_path / 'whole',
                         tmp_path / 'stopped', signal.SIGTERM, 0)


def _disk_of(size: str, where: pathlib.Path) -> pathlib.Path:
  """A tmpfs of `size` mounted at `where` (root only): a disk that fills up."""
  where.mkdir()
  mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(where)],
                           capture_output=True, text=True, check=False)
  if mounted.returncode != 0:
    pytest.skip('a small disk needs a tmpfs mount, which needs root: '
                + (mounted.stderr.strip() or 'mount failed'))
  return where


def test_a_full_disk_stops_with_one_line_keeps_the_last_checkpoint_and_resumes(finished, tmp_path):
  # 400 KiB: the step-20 checkpoint fits, the step-40 one does not.
  disk = _disk_of('400k', tmp_path / 'small_disk')
  try:
    workdir = disk / 'run'
    done = run(classify_command(workdir, *TINY), timeout=300)
    assert_one_line_error(done, f'cannot write checkpoint {workdir}/checkpoints/40: No space left '
                          'on device', code=1)
    assert 'the last good checkpoint, step 20, is kept' in done.stderr
    assert sorted(p.name for p in (workdir / 'checkpoints').iterdir()) == ['20']
    records = (workdir / 'metrics.jsonl').read_text().splitlines()
    assert [json.loads(line)['step'] for line in records] == [20, 40]  # whole lines only
    moved = tmp_path / 'bigger_disk'
    shutil.copytree(workdir, moved)
  finally:
    subprocess.run(['umount', str(disk)], check=False)
  resumed = run(classify_command(moved, *TINY), timeout=300)
  assert_finished(resumed)
  assert (moved / 'metrics.jsonl').read_bytes() == (finished / 'metrics.jsonl').read_bytes()


def test_a_corrected_rerun_a_failed_claim_and_the_manifest_replay(tmp_path):
  """A run that stopped on a bad value after writing config.json (a dataset that
  failed to load, say) left no records or checkpoints: the corrected command is a
  new run there, not a changed one. This short run misses its claim: exit 3. Its
  manifest's command, pasted into a shell, writes the very same records."""
  workdir = tmp_path / 'run'
  workdir.mkdir()
  (workdir / 'config.json').write_text(json.dumps({'study': 'mnist1d_mlp', 'seed': 7}))
  done = run(classify_command(workdir, '--config.train.num_steps=100',
                              '--config.train.eval_every=50'))
  assert done.returncode == EXIT_CLAIM_FAILED, done.stderr
  assert 'reproduced 0 of 1 claims' in done.stdout and 'Traceback' not in done.stderr
  assert json.loads((workdir / 'config.json').read_text())['seed'] == 0
  records = (workdir / 'metrics.jsonl').read_bytes()
  command = json.loads((workdir / 'manifest.json').read_text())['command']
  shutil.rmtree(workdir)
  replayed = subprocess.run(['bash', '-c', command], capture_output=True, text=True,
                            timeout=300, check=False)
  assert_finished(replayed)
  assert (workdir / 'metrics.jsonl').read_bytes() == records


def _main(config: str, workdir, *extra) -> list[str]:
  return [sys.executable, '-m', 'experiments.main', f'--config={config}', f'--workdir={workdir}',
          *extra]


DQN = 'experiments/configs/rl/dqn_cartpole.py:quick'
PPO = 'experiments/configs/rl/ppo_cartpole.py:quick'
BAD_VALUES = {  # each refused in one line, exit 2, before any training
    'batch larger than the data': (
        lambda w: classify_command(w, '--config.train.batch_size=1000000000'),
        'config.train.batch_size=1000000000 is not allowed: at most the 4,000 training examples'),
    'step count past 32 bits': (
        lambda w: classify_command(w, '--config.train.num_steps=1000000000000'),
        'config.train.num_steps=1000000000000 is not allowed: at most 2,147,483,647'),
    'RL step count past 32 bits': (
        lambda w: _main(PPO, w, '--config.total_timesteps=1000000000000'),
        'config.total_timesteps=1000000000000 is not allowed: at most 2,147,483,647'),
    'replay buffer larger than memory': (
        lambda w: _main(DQN, w, '--config.buffer_size=1000000000'),
        'GiB, more than the'),
    'a word for a list of widths': (
        lambda w: classify_command(w, '--config.model.hidden_sizes=abc'),
        "config.model.hidden_sizes=('abc',) is not allowed: a list of ints like the default"),
    'a config file without get_config': (
        lambda w: _main('dl_course/errors.py', w),
        '--config=dl_course/errors.py has no get_config()'),
    'a classification config for an RL study': (
        lambda w: classify_command(w, '--config.study=ppo_cartpole'),
        '--config is not a ppo_cartpole study (rl) config: it has no algorithm'),
    'reproduce into an unwritable workdir': (
        lambda w: [sys.executable, '-m', 'launch.reproduce', 'mnist1d_logreg',
                   '--workdir=/proc/no_such_place'],
        '--workdir=/proc/no_such_place is not writable'),
    '--help with a config file that is not there': (
        lambda w: [sys.executable, '-m', 'experiments.main', '--help', '--config=/no/such.py'],
        '--config=/no/such.py could not be loaded'),
    'no chunks at all': (
        lambda w: classify_command(w, '--max_chunks=0'),
        'flag --max_chunks=0: 0 is not a positive integer'),
    'a bench flag out of range': (
        lambda w: [sys.executable, '-m', 'launch.bench_rl', '--seeds=0'],
        'flag --seeds=0: 0 is not a positive integer'),
}


@pytest.fixture(scope='module')
def bad_value_runs(tmp_path_factory):
  """Every bad-value command at once (they stop within seconds, at start-up)."""
  root = tmp_path_factory.mktemp('bad')
  started = {name: popen(command(root / str(i)))
             for i, (name, (command, _)) in enumerate(BAD_VALUES.items())}
  done = {}
  for name, process in started.items():
    stdout, stderr = process.communicate(timeout=240)
    done[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
  return done


@pytest.mark.parametrize('name', BAD_VALUES)
def test_a_bad_value_is_refused_in_one_line_before_any_work(bad_value_runs, name):
  assert_one_line_error(bad_value_runs[name], BAD_VALUES[name][1])


def test_help_lists_the_config_keys_and_exits_0():
  done = run([sys.executable, '-m', 'experiments.main', '--help', f'--config={MLP_QUICK}'])
  assert done.returncode == 0, done.stderr
  assert '--workdir' in done.stdout and '--config.train.num_steps=1500' in done.stdout
  assert "--config.model.hidden_sizes=(100, 100)" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize('model', ['cnn', 'gru'])
def test_per_step_dispatch_of_conv_and_recurrent_nets_on_four_devices_finishes(tmp_path, model):
  """Steps dispatched ahead on 4 CPU devices used to deadlock in the all-reduce
  (feeding.collectives_block_threads): without the fix the CNN aborts here (rc 134
  after ~65 s; 100 steps were too few to show it). The MLP's are in test_resume."""
  done = run(classify_command(tmp_path, '--config.dispatch=loop', '--config.train.batch_size=100',
                              '--config.train.num_steps=300', '--config.train.eval_every=300',
                              '--config.checkpoint_every=300',
                              config=f'experiments/configs/mnist1d/{model}.py:quick'),
             devices=4, timeout=240)
  assert_finished(done)
  assert json.loads((tmp_path / 'manifest.json').read_text())['devices']['count'] == 4


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_both_signals_request_the_same_stop_and_the_handlers_are_restored(sig):
  """Every loop (classification, RL, the staged studies) stops through this one
  StopRequest; the entry-point tests send SIGINT to classification and SIGTERM to a
  staged study and to RL."""
  before = signal.getsignal(sig)
  with StopRequest().on_signals() as stop:
    os.kill(os.getpid(), sig)
    deadline = time.time() + 10
    while not stop.requested and time.time() < deadline:
      time.sleep(0.01)
  assert stop.requested and stop.reason == signal.Signals(sig).name
  assert signal.getsignal(sig) is before


SECOND_CTRL_C = """
import os, signal, time
from dl_course.engine.loop import StopRequest
with StopRequest().on_signals() as stop:
  os.kill(os.getpid(), signal.SIGINT)
  time.sleep(0.2)
  os.kill(os.getpid(), signal.SIGINT)
  time.sleep(10)
print('not stopped')
"""


def test_a_second_ctrl_c_stops_at_once_with_one_line_and_exit_130():
  done = run([sys.executable, '-c', SECOND_CTRL_C], timeout=60)
  assert_one_line_error(done, 'interrupted again: stopped at once', code=130)
  assert 'not stopped' not in done.stdout
