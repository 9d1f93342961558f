"""Shared by the linear studies: full-batch optimiser runs as one `lax.scan`
that also records a per-step diagnostic, in float64 (the claims are about
relative errors of 1e-5, below float32's resolution after many steps)."""
from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax


def run_optimizer(loss: Callable, w0, tx: optax.GradientTransformation, num_steps: int,
                  track: Callable) -> tuple[np.ndarray, np.ndarray]:
  """Runs `tx` on `loss` from `w0` for `num_steps`; returns the final weights and
  `track(w)` after every step ([num_steps, ...]). Call inside `jax.enable_x64`."""

  @jax.jit
  def scan(w0):
    def step(carry, _):
      w, opt_state = carry
      updates, opt_state = tx.update(jax.grad(loss)(w), opt_state, w)
      w = optax.apply_updates(w, updates)
      return (w, opt_state), track(w)
    (w, _), tracked = jax.lax.scan(step, (w0, tx.init(w0)), None, length=num_steps)
    return w, tracked

  w, tracked = scan(jnp.asarray(w0))
  return np.asarray(w), np.asarray(tracked)


def log_spaced_steps(num_steps: int, points: int = 60) -> np.ndarray:
  """Steps 1..num_steps spaced evenly in log-time (for records and plots)."""
  return np.unique(np.geomspace(1, num_steps, points).astype(np.int64))
