"""What every run leaves in its workdir: config.json, manifest.json, metrics.jsonl,
and the same records as TensorBoard scalars in tensorboard/.

Only process 0 writes. Records are plain JSON; floats are written with repr
precision so two identical runs give byte-identical files. The event files are
written by tensorboardX (no TensorFlow); `tensorboard --logdir=WORKDIR` shows them.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime
import fcntl
import importlib.metadata
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import time

import jax

from dl_course.config import flat_items, to_json_dict
from dl_course.errors import StorageError, UserError, storage_cause

PACKAGES = ('jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint', 'chex', 'numpy', 'scipy',
            'ml-collections', 'absl-py', 'tensorflow-datasets', 'gymnax', 'scikit-learn',
            'mnist1d', 'matplotlib')
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS_FLUSH_SECONDS = 5


def is_writer() -> bool:
  return jax.process_index() == 0


def prepare_workdir(workdir: str) -> pathlib.Path:
  """Creates the workdir and proves it is writable, or raises a one-line UserError."""
  if not workdir:
    raise UserError('--workdir is required: the folder where this run writes its records')
  path = pathlib.Path(workdir).expanduser().absolute()
  try:
    path.mkdir(parents=True, exist_ok=True)
    probe = path / f'.write_probe_{os.getpid()}'
    probe.write_text('')
    probe.unlink()
  except OSError as e:
    raise UserError(f'--workdir={workdir} is not writable ({e.strerror})') from None
  return path


LOCK_FILE = 'lock'


@contextlib.contextmanager
def workdir_lock(workdir: pathlib.Path):
  """Holds the workdir for one run: a second process on it gets a one-line
  UserError naming the holder's pid. The lock is an flock on <workdir>/lock,
  which the kernel drops when its holder dies, so a killed run's workdir is
  taken over by the next one with no stale lock to clear."""
  path = pathlib.Path(workdir) / LOCK_FILE
  handle = open(path, 'a+')  # pylint: disable=consider-using-with
  try:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      handle.seek(0)
      holder = handle.read().strip() or 'unknown'
      raise UserError(f'--workdir={workdir} is in use by another run (pid {holder}); '
                      'wait for it to finish or use another --workdir') from None
    handle.seek(0)
    handle.truncate()
    handle.write(f'{os.getpid()}\n')
    handle.flush()
    yield
  finally:
    handle.close()  # releases the flock


def git_state() -> dict:
  def git(*args):
    return subprocess.run(['git', '-C', str(REPO_ROOT), *args], capture_output=True,
                          text=True, timeout=10, check=True).stdout.strip()
  try:
    return {'sha': git('rev-parse', 'HEAD'), 'dirty': bool(git('status', '--porcelain'))}
  except (OSError, subprocess.SubprocessError):
    return {'sha': None, 'dirty': None}


def package_versions() -> dict:
  versions = {}
  for name in PACKAGES:
    try:
      versions[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      versions[name] = None
  return versions


def device_summary() -> dict:
  devices = jax.devices()
  return {'platform': devices[0].platform, 'kind': devices[0].device_kind,
          'count': len(devices), 'local_count': jax.local_device_count(),
          'process_count': jax.process_count()}


def write_json(path: pathlib.Path, obj) -> None:
  """Writes whole or not at all: through a temporary file, renamed into place."""
  tmp = path.with_name(path.name + '.tmp')
  with refused_writes(path):
    try:
      tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + '\n')
      os.replace(tmp, path)
    finally:
      tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def refused_writes(path: pathlib.Path):
  """Turns a write the disk refuses (full, read-only) into one StorageError line
  naming the path."""
  try:
    yield
  except OSError as error:
    cause = storage_cause(error)
    if cause is None:
      raise
    raise StorageError(f'cannot write {path}: {cause}; what was written before is kept; '
                       'free space and run the same command to resume') from None


def replay_command() -> str:
  """The shell command that launched this process, as one can paste it: from its
  directory, with its XLA_FLAGS, and `python -m module` for a module run (whose
  sys.argv[0] is the module's file path)."""
  main = sys.modules.get('__main__')
  module = getattr(getattr(main, '__spec__', None), 'name', None)
  head = [sys.executable, '-m', module] if module else [sys.executable, sys.argv[0]]
  xla_flags = os.environ.get('XLA_FLAGS', '')
  env = f'XLA_FLAGS={shlex.quote(xla_flags)} ' if xla_flags else ''
  return f'cd {shlex.quote(os.getcwd())} && {env}{shlex.join(head + sys.argv[1:])}'


def write_manifest(workdir: pathlib.Path, *, seed: int, start_step: int) -> None:
  """Writes manifest.json; a resumed run appends its launch to `launches`."""
  if not is_writer():
    return
  path = workdir / 'manifest.json'
  launch = {
      'command': replay_command(),
      'time_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
      'start_step': start_step,
      'host': platform.node(),
  }
  previous = json.loads(path.read_text()).get('launches', []) if path.exists() else []
  write_json(path, {
      'command': launch['command'],
      'seed': seed,
      'git': git_state(),
      'packages': package_versions(),
      'python': platform.python_version(),
      'devices': device_summary(),
      'xla_flags': os.environ.get('XLA_FLAGS', ''),
      'launches': previous + [launch],
  })


class MetricWriter:
  """Appends one JSON object per line to metrics.jsonl, and each number in it as a
  TensorBoard scalar (process 0 only)."""

  def __init__(self, workdir: pathlib.Path):
    self.path = workdir / 'metrics.jsonl'
    self.events_dir = workdir / 'tensorboard'
    self._events = None
    self._summary = None  # tensorboardX's Summary proto class, imported with the writer
    self._purge_step = None

  def truncate_after(self, step: int) -> None:
    """Drops records past `step`: a run killed after logging them resumes from an
    earlier checkpoint and logs them again. TensorBoard hides the event files'
    scalars past `step` too (its purge step), since they are logged again."""
    if not is_writer():
      return
    if (self.events_dir).exists():
      self._purge_step = step + 1
    if not self.path.exists():
      return
    kept = [line for line in self.path.read_text().splitlines()
            if line.strip() and json.loads(line)['step'] <= step]
    self.path.write_text(''.join(line + '\n' for line in kept))

  def _write_events(self, record: dict) -> None:
    # tensorboardX's FileWriter (its SummaryWriter's add_scalar builds an event per
    # value and flushes every 10: 2 ms a record, 40 times the JSON line): one summary
    # event per record, written out by its thread every few seconds and at exit.
    if self._events is None:
      # pylint: disable=import-outside-toplevel
      from tensorboardX import FileWriter
      from tensorboardX.proto.event_pb2 import Event, SessionLog
      from tensorboardX.proto.summary_pb2 import Summary
      self._summary = Summary
      # Files are named by the second: a resume within the same second would
      # truncate the first one without a suffix of its own.
      self._events = FileWriter(str(self.events_dir), max_queue=1000,
                                flush_secs=EVENTS_FLUSH_SECONDS,
                                filename_suffix=f'.{os.getpid()}.{time.time_ns()}')
      if self._purge_step is not None:  # TensorBoard hides earlier events from this step on
        self._events.add_event(Event(step=self._purge_step, file_version='brain.Event:2'))
        self._events.add_event(Event(step=self._purge_step,
                                     session_log=SessionLog(status=SessionLog.START)))
      atexit.register(self.close)
    values = [self._summary.Value(tag=key, simple_value=float(value))
              for key, value in record.items()
              if key != 'step' and isinstance(value, (int, float)) and not isinstance(value, bool)]
    self._events.add_summary(self._summary(value=values), record['step'])

  def close(self) -> None:
    """Writes out the TensorBoard events still buffered (also done at exit)."""
    if self._events is not None:
      self._events.close()
      self._events = None

  def write(self, record: dict) -> None:
    """Appends one whole line: a write the disk cuts short is taken back."""
    if not is_writer():
      return
    line = json.dumps(record, sort_keys=True) + '\n'
    with refused_writes(self.path), self.path.open('a') as f:
      size = f.tell()
      try:
        f.write(line)
        f.flush()
      except OSError:
        f.truncate(size)
        raise
    with refused_writes(self.events_dir):
      self._write_events(record)


def read_metrics(workdir) -> list[dict]:
  path = pathlib.Path(workdir) / 'metrics.jsonl'
  if not path.exists():  # stopped before its first record
    return []
  return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def check_same_run(workdir: pathlib.Path, config, may_change=frozenset()) -> None:
  """A workdir holds one run: refuses to continue it with a different config
  (keys in `may_change` do not change results and may differ)."""
  path = workdir / 'config.json'
  if not path.exists() or not holds_progress(workdir):
    return  # a run that stopped before its first record or checkpoint lost nothing
  old, new = _flatten(json.loads(path.read_text())), _flatten(to_json_dict(config))
  changed = sorted(k for k in old.keys() | new.keys()
                   if old.get(k) != new.get(k) and k not in may_change)
  if changed:
    key = changed[0]
    raise UserError(
        f'--workdir={workdir} holds a run with a different config '
        f'(config.{key}: {old.get(key)!r} there, {new.get(key)!r} now); '
        f'use a new --workdir or the same config to resume')


def holds_progress(workdir: pathlib.Path) -> bool:
  """Whether the workdir holds work a different config would destroy: records,
  checkpoints or finished units (a config.json alone is not work)."""
  metrics = workdir / 'metrics.jsonl'
  if metrics.exists() and metrics.stat().st_size:
    return True
  return any((workdir / name).is_dir() and any((workdir / name).iterdir())
             for name in ('checkpoints', 'units'))


def _flatten(tree: dict) -> dict:
  return {key: list(value) if isinstance(value, tuple) else value
          for key, value in flat_items(tree)}
