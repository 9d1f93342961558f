"""Orbax checkpoints: async, keep-last-N, auto-resume from the workdir.

A checkpoint holds the train state and the loop's host-side accumulators (the
running train-metric sums), so a resumed run logs exactly what an
uninterrupted run would. Orbax writes each step into a temporary folder and
renames it when complete, so a process killed mid-save leaves the previous
checkpoint as the latest one.

A checkpoint damaged after it was written (a file truncated, deleted or
altered) is caught when a run resumes, by `good_step`: once a save has
finished, every file of the step gets its SHA-256 in <step>/sha256.json, and a
sealed step is checked against it by reading files only (TensorStore never
sees a damaged file, so none of its error output reaches the user). A step
not sealed yet (the process died right after saving) is read back whole
instead and checked against the SHA-256 of the state's arrays kept with its
loop state. The newest step that passes is resumed from, with one warning
line per damaged newer step; those are set aside as damaged_<step>/ (kept,
never deleted).
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp

from dl_course.engine.mesh import make_mesh, replicated, to_host
from dl_course.engine.records import is_writer
from dl_course.errors import StorageError, UserError, storage_cause

_DIGEST = '_state_sha256'
SEAL = 'sha256.json'


# Orbax's metadata, OCDBT manifest and the loop state beside a step's arrays.
SAVE_OVERHEAD_BYTES = 128 * 1024


class Checkpointer:

  def __init__(self, directory: str | pathlib.Path, keep: int):
    self.directory = pathlib.Path(directory).absolute()
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, enable_async_checkpointing=True, create=True,
        cleanup_tmp_directories=True)
    self._unsealed: list[int] = []
    self._manager = ocp.CheckpointManager(
        self.directory, options=options,
        item_handlers={'state': ocp.StandardCheckpointHandler(),
                       'loop': ocp.JsonCheckpointHandler()})

  def _seal_saved(self) -> None:
    """Writes sha256.json into every step saved by this process since the last call."""
    if not self._unsealed:
      return
    try:
      self._manager.wait_until_finished()
    except Exception as error:  # pylint: disable=broad-except
      cause = storage_cause(error)
      if cause is None:
        raise
      failed, self._unsealed = self._unsealed, []
      self._remove_unfinished()
      raise self._refused(failed[-1], cause) from None
    for step in self._unsealed:
      directory = self.directory / str(step)
      if directory.is_dir() and is_writer():
        (directory / SEAL).write_text(json.dumps(file_digests(directory), sort_keys=True))
    self._unsealed = []

  def _check_space(self, step: int, state) -> None:
    """Refuses a save the disk has no room for before Orbax starts it: a save that
    runs out of space fails in Orbax's threads, which print tracebacks of their own."""
    needed = (sum(leaf.nbytes for leaf in jax.tree.leaves(state)) * 11 // 10
              + SAVE_OVERHEAD_BYTES)
    free = shutil.disk_usage(self.directory).free
    if needed > free:
      raise self._refused(step, f'No space left on device ({needed / 2**20:.1f} MiB needed, '
                          f'{free / 2**20:.1f} MiB free)')

  def _refused(self, step: int, cause: str) -> StorageError:
    """The one line for a save the disk refused, naming the checkpoint kept."""
    latest = self._manager.latest_step()
    kept = (f'the last good checkpoint, step {latest}, is kept' if latest is not None
            else 'no checkpoint was written yet')
    return StorageError(f'cannot write checkpoint {self.directory / str(step)}: {cause}; '
                        f'{kept}; free space and run the same command to resume')

  def _remove_unfinished(self) -> None:
    """Deletes the temporary folders of saves that failed: they hold partial
    files and the space the disk lacks (Orbax would delete them at the next start)."""
    for partial in self.directory.glob('*.orbax-checkpoint-tmp*'):
      shutil.rmtree(partial, ignore_errors=True)
    self._manager.reload()

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def committed_step(self) -> int | None:
    """Latest step whose files are complete (waits for an async save in flight)."""
    self._seal_saved()
    return self._manager.latest_step()

  def save(self, step: int, state, loop_state: dict) -> None:
    self._seal_saved()  # Orbax waits for the save before anyway
    # A deep copy: the save is asynchronous, and the caller goes on mutating its
    # dicts (the metric window's sums, a stage's curves); a shared dict saved late
    # held sums from after the checkpoint's step.
    loop_state = json.loads(json.dumps({**loop_state, _DIGEST: state_digest(state)}))
    self._check_space(step, state)
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(_as_global(state)), loop=ocp.args.JsonSave(loop_state)),
        force=True)
    self._unsealed.append(step)

  def restore(self, step: int, abstract_state):
    """abstract_state: ShapeDtypeStructs carrying the target shardings."""
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(_as_global(abstract_state)), loop=ocp.args.JsonRestore()))
    return _as_local_like(restored['state'], abstract_state), _without_digest(restored['loop'])

  def restore_loop(self, step: int) -> dict:
    """Only the host-side loop state of a checkpoint."""
    return _without_digest(self._manager.restore(step, args=ocp.args.Composite(
        loop=ocp.args.JsonRestore()))['loop'])

  def good_step(self, set_aside: bool = True) -> int | None:
    """The newest step that reads back whole with its recorded digest (None
    when there is no checkpoint). Newer damaged steps are reported in one
    warning line each and, with `set_aside`, renamed damaged_<step>/. If no
    step reads back, a one-line UserError: nothing is renamed or overwritten."""
    self._seal_saved()
    damaged = []
    for step in sorted(self._manager.all_steps(), reverse=True):
      problem = self._problem(step)
      if problem is None:
        for bad, why in damaged:
          kept = self.directory / f'damaged_{bad}'
          if set_aside:
            (self.directory / str(bad)).rename(kept)
          print(f'warning: checkpoint {self.directory / str(bad)} is damaged ({why}); '
                f'resuming from step {step}'
                + (f', the damaged one kept as {kept}' if set_aside else ''),
                file=sys.stderr, flush=True)
        if damaged and set_aside:
          self._manager.reload()
        return step
      damaged.append((step, problem))
    if damaged:
      bad, why = damaged[0]
      raise UserError(f'no checkpoint in {self.directory} reads back (step {bad}: {why}); '
                      'they are left as they are: use a new --workdir')
    return None

  def _problem(self, step: int) -> str | None:
    """Why `step` cannot be resumed from, or None when it reads back whole."""
    directory = self.directory / str(step)
    if (directory / SEAL).exists():
      try:
        recorded = json.loads((directory / SEAL).read_text())
      except ValueError:
        return f'{SEAL} is unreadable'
      for name, digest in sorted(recorded.items()):
        path = directory / name
        if not path.is_file():
          return f'{name} is missing'
        if _file_digest(path) != digest:
          return f'{name} differs from its SHA-256 in {SEAL}'
      return None
    here = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    try:
      abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=here),
                              self._manager.item_metadata(step)['state'])
      restored = self._manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(_as_global(abstract)), loop=ocp.args.JsonRestore()))
    except Exception as error:  # pylint: disable=broad-except  # TensorStore, JSON, OS errors
      return _first_line(error)
    recorded = (restored['loop'] or {}).get(_DIGEST)
    if recorded is not None and recorded != state_digest(restored['state']):
      return 'its arrays differ from the SHA-256 recorded when it was saved'
    return None

  def close(self) -> None:
    self._seal_saved()
    # Orbax cleans up unfinished tmp folders in a thread started by the manager and
    # waited for only by its first save; close() does not wait for it, so a manager
    # closed before any save (a run that stops on a bad config value) raced the
    # interpreter's exit and printed a 'cannot schedule new futures' traceback.
    cleanup = getattr(self._manager, '_cleanup_tmp_directory_future', None)
    if cleanup is not None:
      cleanup.result()
    self._manager.close()


def _is_host_local(leaf) -> bool:
  sharding = getattr(leaf, 'sharding', None)
  return isinstance(sharding, jax.sharding.SingleDeviceSharding)


def _as_global(tree):
  """In a run of several processes, a state that every process holds whole on its
  own first device (a grid study's: engine/grid.py) as arrays replicated over the
  global mesh, which is what Orbax saves and restores across processes; abstract
  leaves (ShapeDtypeStructs) get that sharding. One process: unchanged."""
  if jax.process_count() == 1:
    return tree
  sharding = replicated(make_mesh())

  def globalise(leaf):
    if not _is_host_local(leaf):
      return leaf
    if isinstance(leaf, jax.ShapeDtypeStruct):
      return jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=sharding)
    copies = [jax.device_put(leaf, device) for device in jax.local_devices()]
    return jax.make_array_from_single_device_arrays(leaf.shape, sharding, copies)
  return jax.tree.map(globalise, tree)


def _as_local_like(restored, abstract):
  """Undoes _as_global for the leaves that `abstract` places on one device."""
  if jax.process_count() == 1:
    return restored
  return jax.tree.map(
      lambda leaf, want: (jax.device_put(leaf.addressable_data(0), want.sharding)
                          if _is_host_local(want) else leaf), restored, abstract)


def state_digest(state) -> str:
  """SHA-256 over a state's arrays (typed PRNG keys by their key data). Each leaf
  is hashed alone and the sorted leaf hashes are hashed together: a state read
  back through its metadata comes as nested dicts, not the dataclasses and
  named tuples it was saved from, so the digest must not depend on leaf order."""
  leaves = []
  for leaf in jax.tree.leaves(state):
    if jax.dtypes.issubdtype(getattr(leaf, 'dtype', None), jax.dtypes.prng_key):
      leaf = jax.random.key_data(leaf)
    array = np.ascontiguousarray(to_host(leaf))
    leaves.append(hashlib.sha256(f'{array.dtype}{array.shape}'.encode() + array.tobytes())
                  .hexdigest())
  return hashlib.sha256(''.join(sorted(leaves)).encode()).hexdigest()


def file_digests(directory: pathlib.Path) -> dict[str, str]:
  """{path relative to `directory`: SHA-256} of every file below it but the seal."""
  return {str(path.relative_to(directory)): _file_digest(path)
          for path in sorted(directory.rglob('*')) if path.is_file() and path.name != SEAL}


def _file_digest(path: pathlib.Path) -> str:
  return hashlib.sha256(path.read_bytes()).hexdigest()


def _without_digest(loop_state):
  if isinstance(loop_state, dict):
    loop_state = {k: v for k, v in loop_state.items() if k != _DIGEST}
  return loop_state


def _first_line(error: Exception) -> str:
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  text = lines[0] if lines else ''
  return f'{type(error).__name__}: {text[:200]}'


def abstract_with_sharding(abstract_tree, sharding):
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), abstract_tree)


def read_checkpoint(directory: str | pathlib.Path, step: int | None = None) -> tuple[int, dict]:
  """(step, state as host arrays) of a finished run's checkpoint, for analysis and
  tests; step=None reads the latest ((None, {}) when there is none)."""
  manager = ocp.CheckpointManager(
      pathlib.Path(directory).absolute(),
      item_handlers={'state': ocp.StandardCheckpointHandler(), 'loop': ocp.JsonCheckpointHandler()})
  try:
    step = manager.latest_step() if step is None else step
    if step is None:
      return None, {}
    # Placed on one local device, so a checkpoint written on N devices reads anywhere.
    here = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=here),
                            manager.item_metadata(step)['state'])
    restored = manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract)))
    return step, jax.tree.map(jax.device_get, restored['state'])
  finally:
    manager.close()
