"""Running an Algorithm for several seeds at once, in chunks, resumably.

The seed axis S leads every leaf of the runner state; the chunk function is
`vmap` over seeds of `algorithm.run`, jitted once per chunk length. With
several devices the seed axis is sharded over the mesh when S divides by the
device count (the seeds are independent: no communication). After each chunk
the host logs every update and saves the whole runner state (Orbax), so a run
stopped after chunk k and restarted continues bit-identically.
"""
from __future__ import annotations

import functools
import pathlib
from collections.abc import Callable

import jax
import numpy as np

from dl_course.engine.checkpoint import Checkpointer
from dl_course.engine.grid import shard_runs
from dl_course.engine.mesh import to_host
from dl_course.engine.guard import check_finite
from dl_course.engine.state import init_each
from dl_course.rl.algorithm import Algorithm


def seed_keys(seed: int, num_seeds: int) -> jax.Array:
  """Raw uint32 keys [S, 2], one per seed of the run."""
  return jax.random.split(jax.random.PRNGKey(seed), num_seeds)


def init_seeds(algorithm: Algorithm, keys_S: jax.Array):
  """Every seed's initial runner state [S], one seed after another
  (engine.state.init_each: never a batched QR)."""
  return _mapped_init(algorithm)(keys_S)


def state_bytes(algorithm: Algorithm, num_seeds: int) -> int:
  """Bytes of every seed's runner state (networks, optimiser, environments, any
  replay buffer), from shapes alone: nothing is allocated."""
  keys = jax.ShapeDtypeStruct((num_seeds, 2), np.uint32)
  shapes = jax.eval_shape(jax.vmap(algorithm.init), keys)
  return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(shapes))


@functools.cache
def _mapped_init(algorithm: Algorithm):
  return jax.jit(lambda keys: init_each(algorithm.init, keys))


def mean_return(metrics) -> np.ndarray:
  """Mean return of the episodes that ended in each update [S, U] (NaN where none did)."""
  episodes = np.asarray(metrics['episodes'], np.float64)
  with np.errstate(invalid='ignore', divide='ignore'):
    return np.where(episodes > 0, np.asarray(metrics['return_sum'], np.float64) / episodes,
                    np.nan)


def completed_updates(checkpoint_dir: pathlib.Path) -> int:
  """Updates done by the latest complete checkpoint (0 if none)."""
  if not pathlib.Path(checkpoint_dir).exists():
    return 0
  checkpointer = Checkpointer(checkpoint_dir, keep=2)
  try:
    return checkpointer.good_step() or 0
  finally:
    checkpointer.close()


def chunk_length(num_updates: int, requested: int) -> int:
  """The largest divisor of num_updates up to `requested`, so that every chunk
  runs the same executable: jaxlib 0.10's CPU runtime was seen to wedge when a
  process ran two large executables one after the other (WORKSPACE.md). If no
  divisor comes within a factor 4, `requested` (and a shorter last chunk)."""
  best = max(d for d in range(1, min(requested, num_updates) + 1) if num_updates % d == 0)
  return best if 4 * best >= min(requested, num_updates) else requested


def train_seeds(algorithm: Algorithm, keys_S, *, chunk_updates: int,
                checkpoint_dir: pathlib.Path | None = None,
                on_chunk: Callable[[int, dict], None] | None = None,
                max_chunks: int | None = None, stop=None):
  """Runs every seed to algorithm.num_updates (or `max_chunks` more chunks, or
  until `stop`, a StopRequest, is requested: after the chunk in flight is saved).

  on_chunk(first_update, metrics {name: [S, K]}) sees each chunk's metrics after
  it is checked and before it is saved. Returns (states [S], updates done).
  """
  states = shard_runs(init_seeds(algorithm, keys_S))
  checkpointer = Checkpointer(checkpoint_dir, keep=2) if checkpoint_dir else None
  done = checkpointer.good_step() if checkpointer else None
  if done is None:
    done = 0
  else:
    abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=a.sharding),
                            states)
    states, _ = checkpointer.restore(done, abstract)
  chunks = 0
  chunk_updates = chunk_length(algorithm.num_updates, chunk_updates)
  try:
    while (done < algorithm.num_updates and (max_chunks is None or chunks < max_chunks)
           and not (stop is not None and stop.agreed())):
      length = min(chunk_updates, algorithm.num_updates - done)
      states, metrics = run_chunk(algorithm, length)(states)
      metrics = to_host(metrics)
      # [S, K]: update done + 1 + k is the k-th of this chunk.
      check_finite(metrics, first_step=done + 1, step_axis=1, prefix='train/',
                   last_good_step=checkpointer.committed_step if checkpointer else None)
      if on_chunk:
        on_chunk(done, metrics)
      done += length
      chunks += 1
      if checkpointer:
        checkpointer.save(done, states, {'update': done})
  finally:
    if checkpointer:
      checkpointer.close()
  return states, done


@functools.cache
def run_chunk(algorithm: Algorithm, length: int):
  """`length` updates of every seed, compiled once per (algorithm, length)."""
  return jax.jit(jax.vmap(lambda state: algorithm.run(state, length)))
