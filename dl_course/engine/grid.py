"""Training a grid of runs that share shapes as one vmapped, jitted function.

Runs differ in their initialisation key, labels and/or learning rate; the grid
axis R leads every leaf of the stacked TrainState. The learning rate lives in
the optimizer state (`optax.inject_hyperparams`), so runs with different rates
are the same function of different data. The input batch is shared by every
run: batch indices depend on (seed, step) only, as everywhere else.

With several devices the run axis is sharded over the mesh's `data` axis when
R divides by the device count (each device trains R/devices runs; the runs are
independent, so no communication), and replicated otherwise.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.data.sampler import chunk_indices
from dl_course.engine.mesh import batch_sharding, make_mesh, replicated
from dl_course.engine.state import init_train_state
from dl_course.engine.steps import classification_loss, make_train_step


def sgd_with_rate(momentum: float = 0.0) -> optax.GradientTransformation:
  """SGD whose learning rate is a per-run entry of its state."""
  return optax.inject_hyperparams(optax.sgd)(learning_rate=0.0, momentum=momentum or None)


def adam_with_rate() -> optax.GradientTransformation:
  return optax.inject_hyperparams(optax.adam)(learning_rate=0.0)


def init_grid(model, tx, sample_x, keys_R: jax.Array, learning_rates_R) -> object:
  """Stacked TrainStates, one per key, with per-run learning rates."""
  states = jax.vmap(lambda key: init_train_state(model, tx, sample_x, key))(keys_R)
  rates = jnp.asarray(learning_rates_R, jnp.float32)
  opt_state = states.opt_state
  opt_state.hyperparams['learning_rate'] = rates
  return shard_runs(states.replace(opt_state=opt_state))


def shard_runs(tree):
  """Places a pytree with a leading run axis R on the mesh: sharded along R if
  R divides by the device count, replicated otherwise."""
  mesh = make_mesh()
  runs = jax.tree.leaves(tree)[0].shape[0]
  sharding = batch_sharding(mesh) if runs % mesh.size == 0 else replicated(mesh)
  return jax.device_put(tree, sharding)


def make_grid_chunk(model, tx, loss_fn=classification_loss, adversarial_epsilon=None):
  """(states [R], x [K, B, ...], y [R, K, B]) -> (states, metrics {name: [K, R]})."""
  step = jax.vmap(make_train_step(model.apply, tx, loss_fn, adversarial_epsilon),
                  in_axes=(0, {'x': None, 'y': 0}))

  @jax.jit
  def chunk(states, x_KB, y_RKB):
    def one(states, batch):
      return step(states, {'x': batch[0], 'y': batch[1]})
    return jax.lax.scan(one, states, (x_KB, jnp.swapaxes(y_RKB, 0, 1)))
  return chunk


def make_grid_accuracy(model):
  """(params [R], x [N, ...], y [R, N] or [N]) -> accuracy per run [R]."""
  @jax.jit
  def accuracy(params, x, y):
    logits_RNC = jax.vmap(lambda p: model.apply({'params': p}, x))(params)
    y = jnp.broadcast_to(y, logits_RNC.shape[:2])
    return jnp.mean(jnp.argmax(logits_RNC, -1) == y, axis=1)
  return accuracy


def chunk_batches(seed: int, start: int, num_steps: int, x: np.ndarray, y_RN: np.ndarray,
                  batch_size: int) -> tuple[np.ndarray, np.ndarray]:
  """The inputs [K, B, ...] and per-run labels [R, K, B] of steps start..start+K-1."""
  index_KB = chunk_indices(seed, start, num_steps, len(x), batch_size)
  return x[index_KB], y_RN[:, index_KB]
