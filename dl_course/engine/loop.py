"""The host loop: dispatch chunks of steps, log, evaluate, checkpoint, guard.

The loop knows nothing about models or data: it calls
`run_chunk(state, first_step, num_steps) -> (state, metrics)` where metrics
hold one value per step ([K] arrays), and `evaluate(state) -> {split/name: float}`.

Chunk boundaries form a fixed grid (multiples of steps_per_dispatch, eval_every
and checkpoint_every, plus num_steps), and checkpoints are taken only on it, so
a resumed run dispatches exactly the same chunks as an uninterrupted one and
its numbers are bit-identical. Metrics of chunk i are fetched after chunk i+1
is dispatched, keeping the device busy; at checkpoint and eval points the loop
syncs, so a checkpoint is written only after its chunk's metrics were checked
finite (the NaN guard: the last checkpoint is always a good one).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import Callable

import jax
import numpy as np
import tqdm

from dl_course.engine.checkpoint import Checkpointer
from dl_course.engine.distributed import any_process
from dl_course.engine.guard import check_finite
from dl_course.engine.records import MetricWriter, is_writer


@dataclasses.dataclass(frozen=True)
class Schedule:
  num_steps: int
  steps_per_dispatch: int
  eval_every: int
  checkpoint_every: int

  def next_boundary(self, step: int) -> int:
    def next_multiple(n):
      return (step // n + 1) * n
    return min(next_multiple(self.steps_per_dispatch), next_multiple(self.eval_every),
               next_multiple(self.checkpoint_every), self.num_steps)

  def is_eval(self, step: int) -> bool:
    return step % self.eval_every == 0 or step == self.num_steps

  def is_checkpoint(self, step: int) -> bool:
    return step % self.checkpoint_every == 0 or step == self.num_steps


@dataclasses.dataclass
class MetricWindow:
  """Float64 sums of per-step train metrics since the last logged record: one sum
  per metric, or one per run for the [K, R] metrics of R runs trained together
  (classification/vmapped.py)."""
  sums: dict = dataclasses.field(default_factory=dict)
  count: int = 0

  def add(self, metrics: dict[str, np.ndarray]) -> None:
    for name, values in metrics.items():
      self.sums[name] = self.sums.get(name, 0.0) + np.sum(values.astype(np.float64), axis=0)
    self.count += len(next(iter(metrics.values())))

  def means(self) -> dict:
    return {f'train/{k}': _as_number(v / self.count) for k, v in sorted(self.sums.items())}

  def to_json(self) -> dict:
    return {'sums': {k: np.asarray(v).tolist() for k, v in self.sums.items()},
            'count': self.count}

  @classmethod
  def from_json(cls, data: dict | None) -> MetricWindow:
    if not data:
      return cls()
    return cls(sums={k: np.float64(v) if np.ndim(v) == 0 else np.asarray(v, np.float64)
                     for k, v in data['sums'].items()}, count=data['count'])


class StopRequest:
  """Set by SIGTERM or SIGINT (Ctrl-C): the loop saves at the next chunk boundary
  and returns; `reason` names the signal. A second SIGINT stops at once, with one
  line and exit 130, keeping the last checkpoint written."""

  def __init__(self):
    self.requested = False
    self.reason: str | None = None

  @contextlib.contextmanager
  def on_signals(self):
    def handler(signum, frame):
      del frame
      name = signal.Signals(signum).name
      if self.requested and name == 'SIGINT':
        print('error: interrupted again: stopped at once; the last checkpoint is kept',
              file=sys.stderr, flush=True)
        os._exit(130)  # pylint: disable=protected-access
      self.requested, self.reason = True, name
    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
      yield self
    finally:
      for s, h in previous.items():
        signal.signal(s, h)

  def agreed(self) -> bool:
    """Whether to stop now, agreed by every process of the run (any_process); a
    process stopped by another's signal names it so."""
    requested = any_process(self.requested)
    if requested and not self.requested:
      self.requested, self.reason = True, 'a signal to another process'
    return requested


def progress_bar(total: int | None = None, *, initial: int = 0, unit: str = 'step',
                 desc: str | None = None, enabled: bool | None = None,
                 leave: bool = True) -> tqdm.tqdm:
  """The progress bar of a long run, on stderr: rate, ETA (with a total) and the
  metric a caller sets as postfix. Process 0 only; by default only when stderr
  is a terminal, so that logs and test pipes get no carriage-return noise."""
  disable = True if not is_writer() else (None if enabled is None else not enabled)
  return tqdm.tqdm(total=total, initial=initial, unit=unit, desc=desc, disable=disable,
                   file=sys.stderr, smoothing=0.1, leave=leave)


@dataclasses.dataclass
class LoopResult:
  state: object
  step: int
  stopped_early: bool
  last_record: dict | None


def run_loop(state, *, start_step: int, schedule: Schedule,
             run_chunk: Callable, evaluate: Callable[[object], dict],
             writer: MetricWriter, checkpointer: Checkpointer, window: MetricWindow,
             progress: bool = True, stop: StopRequest | None = None,
             max_chunks: int | None = None) -> LoopResult:
  """Runs to schedule.num_steps, or until SIGTERM or `max_chunks` dispatched chunks
  (then it saves the current step, which lies on the chunk grid)."""
  stop = stop or StopRequest()
  step, pending, last_record, chunks = start_step, None, None, 0
  bar = progress_bar(schedule.num_steps, initial=start_step, enabled=progress)

  def collect(chunk):
    first, metrics = chunk
    host = {k: np.asarray(v) for k, v in jax.device_get(metrics).items()}
    check_finite(host, first_step=first, last_good_step=checkpointer.committed_step,
                 prefix='train/')
    window.add(host)
    if 'loss' in host:  # R runs trained together show their mean
      bar.set_postfix(loss=f'{np.mean(host["loss"][-1]):.4f}', refresh=False)

  try:
    while step < schedule.num_steps and not stop.agreed():
      end = schedule.next_boundary(step)
      state, metrics = run_chunk(state, step, end - step)
      chunks += 1
      if max_chunks is not None and chunks >= max_chunks:
        stop.requested = True
      if pending is not None:
        collect(pending)
      pending, step = (step, metrics), end
      bar.update(end - bar.n)
      if schedule.is_eval(end) or schedule.is_checkpoint(end):
        collect(pending)
        pending = None
      if schedule.is_eval(end):
        last_record = {'step': end, **window.means(),
                       **{k: _as_number(v) for k, v in sorted(evaluate(state).items())}}
        check_finite({k: v for k, v in last_record.items() if k != 'step'},
                     first_step=end, last_good_step=checkpointer.committed_step)
        writer.write(last_record)
        window = MetricWindow()
      if schedule.is_checkpoint(end):
        checkpointer.save(end, state, window.to_json())
    if pending is not None:
      collect(pending)
    stopped_early = step < schedule.num_steps
    if stopped_early and checkpointer.latest_step() != step:
      checkpointer.save(step, state, window.to_json())
  finally:
    bar.close()
    checkpointer.committed_step()  # Lets an in-flight save finish, even on errors.
  return LoopResult(state=state, step=step, stopped_early=stopped_early, last_record=last_record)


def _as_number(value):
  """A float, or a float64 array of one value per run."""
  return float(value) if np.ndim(value) == 0 else np.asarray(value, np.float64)
