"""Resume for studies that train in stages: widths, grids, splits, rates, one model.

A resumable study's run gets a `Progress`: it logs through `progress.log`, trains
each stage with `progress.checkpoints(name)` (Orbax checkpoints after every
chunk, through the one Checkpointer, under checkpoints/<name>/) and may wrap a
stage whose result is plain JSON in `progress.unit(name, compute)`, which keeps
that result in units/<name>.json once the stage is done.

Rerun with the same config in the same workdir, the study runs its code again
from the top. A finished unit returns its kept result at once; a stage with
checkpoints restores its latest one (state, host-side accumulators and the
number of records logged until then) and carries on with the very chunks an
uninterrupted run would dispatch. Records already in metrics.jsonl are not
written again: each record the rerun logs before the resume point is compared
with the line it replays, so a rerun that would not reproduce the run it
continues (changed code or data) stops with one line instead of mixing two
runs in one file. SIGTERM or `--max_chunks` stop the run after the chunk in
flight, its checkpoint saved, by raising StopRun (studies.logged_run returns
Stopped).

A stage's state is a dict (or struct, like TrainState) whose `params` entry
holds its model's parameters: `dl_course.load_run` gives every stage back.
"""
from __future__ import annotations

import json
import pathlib
import re
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp

from dl_course.engine.checkpoint import Checkpointer
from dl_course.engine.loop import StopRequest
from dl_course.engine.distributed import any_process
from dl_course.engine.records import is_writer, write_json
from dl_course.errors import UserError

_NAME = re.compile(r'[A-Za-z0-9_.=+-]+')


class StopRun(Exception):
  """Raised after a checkpoint when SIGTERM or --max_chunks asked the run to stop."""

  def __init__(self, where: str, reason: str):
    super().__init__(f'stopped by {reason} after {where}')
    self.where, self.reason = where, reason


class Progress:
  """The resume bookkeeping of one run in `workdir`."""

  def __init__(self, workdir: pathlib.Path, log: Callable[[dict], None], *,
               max_chunks: int | None = None, stop: StopRequest | None = None):
    self.workdir = pathlib.Path(workdir)
    self._log = log
    self._max_chunks = max_chunks
    self._stop = stop or StopRequest()
    self._chunks = 0
    self._count = 0  # records logged so far by the study, replayed ones included
    self._open: list[StageCheckpoints] = []
    metrics = self.workdir / 'metrics.jsonl'
    self._kept = metrics.read_text().splitlines() if metrics.exists() else []

  def log(self, record: dict) -> None:
    if self._count < len(self._kept):
      line = json.dumps(record, sort_keys=True)
      if line != self._kept[self._count]:
        raise UserError(
            f'--workdir={self.workdir}: metrics.jsonl line {self._count + 1} differs from '
            'what this run logs there now (code or data changed since it started); '
            'use a new --workdir')
    else:
      self._log(record)
    self._count += 1

  def checkpoints(self, name: str) -> StageCheckpoints:
    """Chunk checkpoints for the stage `name`. Creating them positions the run's
    records at the stage's latest checkpoint."""
    checkpoints = StageCheckpoints(self, _checked_name(name))
    self._open.append(checkpoints)
    return checkpoints

  def unit(self, name: str, compute: Callable[[StageCheckpoints], dict]) -> dict:
    """compute(checkpoints)'s result, kept in units/<name>.json: a rerun returns
    the kept result without computing it. The result goes through JSON either
    way, so a fresh run and a resumed one continue from the same values."""
    path = self.workdir / 'units' / f'{_checked_name(name)}.json'
    if path.exists():
      kept = json.loads(path.read_text())
      if kept['records'] > len(self._kept):
        raise UserError(f'--workdir={self.workdir}: metrics.jsonl ends before unit {name!r} '
                        'that units/ says is done; use a new --workdir')
      self._count = kept['records']
      return kept['result']
    checkpoints = StageCheckpoints(self, _checked_name(name))
    try:
      result = json.loads(json.dumps(compute(checkpoints)))
    finally:
      checkpoints.close()
    if is_writer():
      path.parent.mkdir(exist_ok=True)
      write_json(path, {'result': result, 'records': self._count})
    if not checkpoints.used:  # a unit computed in one go counts as one chunk
      reason = self._count_chunk()
      if reason:
        raise StopRun(f'unit {name}', reason)
    return result

  def finish(self) -> None:
    """At the end of the run: drops records a stopped run logged that this one did not."""
    self._truncate(self._count)

  def close(self) -> None:
    """Lets every save in flight finish (also when the run stops or fails)."""
    for checkpoints in self._open:
      checkpoints.close()
    self._open.clear()

  def _truncate(self, count: int) -> None:
    if count < len(self._kept):
      self._kept = self._kept[:count]
      if is_writer():
        (self.workdir / 'metrics.jsonl').write_text(''.join(line + '\n' for line in self._kept))

  def _resume_at(self, count: int | None) -> None:
    """A stage starts: at its checkpoint's record count, or here when it has none."""
    if count is not None:
      self._count = count
    self._truncate(self._count)

  def _count_chunk(self) -> str | None:
    """Counts a finished chunk; the reason to stop after it, if any."""
    self._chunks += 1
    if self._stop.agreed():
      return self._stop.reason
    if self._max_chunks is not None and self._chunks >= self._max_chunks:
      return '--max_chunks'
    return None


class StageCheckpoints:
  """Orbax checkpoints of one stage's training state after each chunk, with the
  loop's host-side `carry` (JSON: curves so far, whether it has finished)."""

  KEEP = 2
  SAVE_SECONDS = 30.0

  def __init__(self, progress: Progress, name: str):
    self._progress = progress
    self._checkpointer = Checkpointer(progress.workdir / 'checkpoints' / name, self.KEEP)
    self._name = name
    self._step = self._checkpointer.good_step()
    self._carry = None
    self.used = self._step is not None  # has chunks, from this process or an earlier one
    self._saved_at = time.monotonic()
    if self._step is not None:
      self._carry = self._checkpointer.restore_loop(self._step)
    progress._resume_at(None if self._carry is None else self._carry['records'])

  def restore(self, state) -> tuple[object, int, dict | None]:
    """(state, step, carry) of the latest checkpoint, restored into `state`'s
    structure and shardings; (state, 0, None) when there is none."""
    if self._step is None:
      return state, 0, None
    here = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(
        jnp.shape(a), jnp.result_type(a), sharding=getattr(a, 'sharding', here)), state)
    restored, _ = self._checkpointer.restore(self._step, abstract)
    return restored, self._step, self._carry['carry']

  def chunk_done(self, step: int, state, carry: dict | Callable[[], dict], *,
                 last: bool) -> None:
    """After a chunk, its records logged: saves a checkpoint when the stage ends,
    when the run stops now, or when SAVE_SECONDS passed since the last save
    (which chunk ends get one does not change any result), then stops the run
    if SIGTERM or --max_chunks asked for it. `carry` may be a function giving
    the JSON dict, called only when a checkpoint is written."""
    self.used = True
    stop = self._progress._count_chunk()
    # Each process's clock says when a save is due; the save is agreed (any_process).
    if last or stop or any_process(time.monotonic() - self._saved_at >= self.SAVE_SECONDS):
      kept = carry() if callable(carry) else carry
      self._checkpointer.save(step, state, {'carry': kept, 'records': self._progress._count})
      self._saved_at = time.monotonic()
    if stop:
      raise StopRun(f'step {step} of {self._name}', stop)

  def last_good_step(self) -> int | None:
    """The stage's latest complete checkpoint, for the NaN guard's message."""
    return self._checkpointer.committed_step()

  def close(self) -> None:
    self._checkpointer.close()


def _checked_name(name: str) -> str:
  if not _NAME.fullmatch(name):
    raise ValueError(f'stage name {name!r}: use letters, digits and _ . = + - only')
  return name
