"""Feeding in-memory arrays to the mesh: training chunks and evaluation batches.

Two ways to dispatch a chunk of K training steps:
  'scan': one jitted `lax.scan` over a [K, B, ...] chunk: one dispatch per chunk,
          every model family's default (at least as fast as 'loop' for each,
          convolutions included: dl_course/models/conv.py, launch/bench_throughput.py).
  'loop': K dispatches of one jitted step, kept as the baseline the benchmark
          compares against.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dl_course.data.sampler import batch_indices, chunk_indices
from dl_course.engine.mesh import batch_sharding, put_global, replicated
from dl_course.engine.steps import scan_steps

DISPATCH_MODES = ('scan', 'loop')


def collectives_block_threads(mesh) -> bool:
  """Whether programs over this mesh must run one at a time. On XLA:CPU every
  device's part of a program runs on a thread of one shared pool, and an
  all-reduce holds its thread until every device arrives. With several steps
  dispatched ahead, the parts of later steps fill the pool, waiting, while a part
  of an earlier step has no thread left to run on: the 4-device MNIST-1D CNN
  deadlocked so and aborted at XLA's 40 s rendezvous timeout (3 of 3 runs; the
  MLP's parts are short enough to slip through). Blocking on each step costs the
  overlap of host and device work, which per-step dispatch on CPU barely has."""
  return mesh.size > 1 and mesh.devices.flat[0].platform == 'cpu'


def make_chunk_runner(train_step, *, mode: str, mesh, x: np.ndarray, y: np.ndarray,
                      seed: int, batch_size: int):
  """Returns run_chunk(state, first_step, k) -> (state, {name: [k] metrics})."""
  num_examples = len(y)
  out_shardings = (replicated(mesh), replicated(mesh))
  if mode == 'scan':
    scanned = jax.jit(scan_steps(train_step), donate_argnums=0, out_shardings=out_shardings)
    sharding = batch_sharding(mesh, batch_axis=1)

    def run_chunk(state, first_step, k):
      idx_KB = chunk_indices(seed, first_step, k, num_examples, batch_size)
      return scanned(state, put_global({'x': x[idx_KB], 'y': y[idx_KB]}, sharding))
    return run_chunk

  stepped = jax.jit(train_step, donate_argnums=0, out_shardings=out_shardings)
  sharding = batch_sharding(mesh, batch_axis=0)
  stack = jax.jit(lambda ms: jax.tree.map(lambda *v: jnp.stack(v), *ms))
  one_in_flight = collectives_block_threads(mesh)

  def run_chunk(state, first_step, k):
    metrics = []
    for step in range(first_step, first_step + k):
      idx_B = batch_indices(seed, step, num_examples, batch_size)
      state, m = stepped(state, put_global({'x': x[idx_B], 'y': y[idx_B]}, sharding))
      if one_in_flight:
        jax.block_until_ready(state)
      metrics.append(m)
    return state, stack(metrics)
  return run_chunk


def make_evaluator(eval_sums, *, mesh, x: np.ndarray, y: np.ndarray, batch_size: int):
  """Returns evaluate(state) -> {name: mean over all examples}.

  The data is padded to whole batches once and kept on the devices; a 0/1 mask
  removes the padding from the sums.
  """
  batch_size = -(-batch_size // mesh.size) * mesh.size
  batch_size = min(batch_size, -(-len(y) // mesh.size) * mesh.size)
  num_batches = -(-len(y) // batch_size)
  pad = num_batches * batch_size - len(y)
  mask = np.concatenate([np.ones(len(y), np.float32), np.zeros(pad, np.float32)])
  x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
  y = np.concatenate([y, np.zeros(pad, y.dtype)])
  sharding = batch_sharding(mesh)
  batches = [put_global({'x': x[sl], 'y': y[sl], 'mask': mask[sl]}, sharding)
             for sl in (slice(i * batch_size, (i + 1) * batch_size) for i in range(num_batches))]
  jitted = jax.jit(eval_sums, out_shardings=replicated(mesh))
  one_in_flight = collectives_block_threads(mesh)

  def evaluate(state) -> dict[str, float]:
    totals: dict[str, float] = {}
    in_flight = []
    for batch in batches:
      in_flight.append(jitted(state, batch))
      if one_in_flight:
        jax.block_until_ready(in_flight[-1])
    for sums in jax.device_get(in_flight):
      for k, v in sums.items():
        totals[k] = totals.get(k, 0.0) + float(v)
    count = totals.pop('count')
    return {k: v / count for k, v in sorted(totals.items())}
  return evaluate
