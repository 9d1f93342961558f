"""What every RL algorithm here provides, and the whole-run function.

An Algorithm is a pair of pure functions over a runner state (a pytree that
holds everything, keys included): `init(key)` and `update(state, _) ->
(state, metrics)`. Each update's metrics include `episodes` (how many ended)
and `return_sum` (their summed return), so the mean episodic return is a ratio
that can be pooled over updates and seeds.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax


class Algorithm(NamedTuple):
  init: Callable
  update: Callable
  num_updates: int
  steps_per_update: int  # environment steps per update (all copies)
  network: object = None  # the Linen module whose params the state holds
  # greedy(state, obs) -> the action the trained policy takes for one observation,
  # deterministically (argmax, or the Gaussian mean): for watching an agent.
  greedy: Callable | None = None

  def run(self, state, num_updates: int):
    """`num_updates` updates as one scan: (state, metrics {name: [num_updates]})."""
    return jax.lax.scan(self.update, state, None, length=num_updates)

  def make_train(self) -> Callable:
    """train(key) -> (final state, metrics [num_updates]): the whole run, jittable
    and vmappable over keys."""
    def train(key):
      return self.run(self.init(key), self.num_updates)
    return train
