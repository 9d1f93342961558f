"""Orbax checkpoints: async, keep-last-N, auto-resume from the workdir.

A checkpoint holds the train state and the loop's host-side accumulators (the
running train-metric sums), so a resumed run logs exactly what an
uninterrupted run would. Orbax writes each step into a temporary folder and
renames it when complete, so a process killed mid-save leaves the previous
checkpoint as the latest one.
"""
from __future__ import annotations

import pathlib

import jax
import orbax.checkpoint as ocp


class Checkpointer:

  def __init__(self, directory: str | pathlib.Path, keep: int):
    self.directory = pathlib.Path(directory).absolute()
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, enable_async_checkpointing=True, create=True,
        cleanup_tmp_directories=True)
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def committed_step(self) -> int | None:
    """Latest step whose files are complete (waits for an async save in flight)."""
    self._manager.wait_until_finished()
    return self._manager.latest_step()

  def save(self, step: int, state, loop_state: dict) -> None:
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), loop=ocp.args.JsonSave(loop_state)), force=True)

  def restore(self, step: int, abstract_state):
    """abstract_state: ShapeDtypeStructs carrying the target shardings."""
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state), loop=ocp.args.JsonRestore()))
    return restored['state'], restored['loop']

  def restore_loop(self, step: int) -> dict:
    """Only the host-side loop state of a checkpoint."""
    return self._manager.restore(step, args=ocp.args.Composite(
        loop=ocp.args.JsonRestore()))['loop']

  def close(self) -> None:
    self._manager.wait_until_finished()
    # Orbax cleans up unfinished tmp folders in a thread started by the manager and
    # waited for only by its first save; close() does not wait for it, so a manager
    # closed before any save (a run that stops on a bad config value) raced the
    # interpreter's exit and printed a 'cannot schedule new futures' traceback.
    cleanup = getattr(self._manager, '_cleanup_tmp_directory_future', None)
    if cleanup is not None:
      cleanup.result()
    self._manager.close()


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
