"""The one NaN guard: every training loop in the project checks its metrics here.

A non-finite metric stops the run with TrainingDivergedError naming the metric,
the first bad step and the last good checkpoint; the CLI turns that into one
line and exit status 1. Loops pass whatever they log: per-step arrays [K], grid
or seed arrays ([K, R] or [S, K]: `step_axis` says which axis counts steps),
or plain floats.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from dl_course.errors import TrainingDivergedError


def check_finite(metrics: Mapping, *, first_step: int,
                 last_good_step: int | None | Callable[[], int | None] = None,
                 step_axis: int = 0, prefix: str = '') -> None:
  """Raises on the first non-finite value; its step is first_step + its index
  along `step_axis` (first_step itself for a scalar). None values are skipped.
  `last_good_step` may be a function, asked only when something is wrong (a
  checkpointer's committed_step waits for the save in flight)."""
  for name in sorted(metrics):
    if metrics[name] is None:
      continue
    values = np.asarray(metrics[name], np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
      where = tuple(int(i) for i in np.argwhere(bad)[0])
      step = first_step + (where[step_axis] if values.ndim else 0)
      good = last_good_step() if callable(last_good_step) else last_good_step
      raise TrainingDivergedError(prefix + name, step, float(values[where]), good)


def check_record(record: Mapping, *, step: int | None = None, prefix: str = '') -> None:
  """The guard for a logged record (or a summary): every number in it, nested
  dicts and lists included, named by its path ('a/b'), reported at record['step']
  (or `step`). Strings and other non-numbers are skipped."""
  at = record.get('step', 0) if step is None else step
  for name, value in _numbers(record, prefix):
    if not np.all(np.isfinite(value)):
      raise TrainingDivergedError(name, int(at), float(value[~np.isfinite(value)][0]), None)


def _numbers(tree, path: str):
  if isinstance(tree, Mapping):
    for key in sorted(tree):
      yield from _numbers(tree[key], f'{path}/{key}' if path else str(key))
    return
  if isinstance(tree, bool) or tree is None or isinstance(tree, str):
    return
  if isinstance(tree, (list, tuple)) and any(  # None: "not reached", never a NaN
      v is None or isinstance(v, (Mapping, list, tuple, str)) for v in tree):
    for index, value in enumerate(tree):
      yield from _numbers(value, f'{path}[{index}]')
    return
  try:
    yield path, np.asarray(tree, np.float64).reshape(-1)
  except (TypeError, ValueError):
    return
