"""The engine's training loop timed from outside, for the benchmarks that compare it
(launch/bench_throughput.py: scan against loop; launch/bench_vs_torch.py: against PyTorch)."""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import optax

from dl_course import models
from dl_course.engine.feeding import make_chunk_runner
from dl_course.engine.mesh import make_mesh, replicated
from dl_course.engine.state import init_train_state
from dl_course.engine.steps import classification_loss, make_train_step


def engine_trainer(model_config, train, *, mode: str, batch_size: int, k: int,
                   learning_rate: float = 1e-3):
  """The engine's training (Adam, `k` steps per chunk) of a fresh model on `train`,
  compiled here. Returns advance(seconds) -> steps trained, in whole chunks, which
  waits for a chunk after dispatching the next, as the trainer does (engine/loop.py),
  so gathering the next batches on the host overlaps the device's work."""
  model = models.build(model_config, train.info.num_classes)
  tx = optax.adam(learning_rate)
  mesh = make_mesh()
  # Placed on the mesh as the trainer does, so the warm-up compiles what is timed.
  state = jax.jit(lambda key: init_train_state(model, tx, jnp.zeros((1, *train.info.input_shape)),
                                               key), out_shardings=replicated(mesh))(jax.random.key(0))
  run_chunk = make_chunk_runner(make_train_step(model.apply, tx, classification_loss), mode=mode,
                                mesh=mesh, x=train.x, y=train.y, seed=0, batch_size=batch_size)
  state, metrics = run_chunk(state, 0, k)  # Compiles.
  jax.block_until_ready(metrics)
  box = {'state': state, 'step': k}

  def advance(seconds: float) -> int:
    start, done, pending = time.perf_counter(), 0, None
    while time.perf_counter() - start < seconds:
      box['state'], metrics = run_chunk(box['state'], box['step'], k)
      if pending is not None:
        jax.block_until_ready(pending)
      pending, done, box['step'] = metrics, done + k, box['step'] + k
    jax.block_until_ready(pending)
    return done
  return advance
