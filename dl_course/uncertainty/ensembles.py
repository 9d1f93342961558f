"""Deep ensembles (Lakshminarayanan et al. 2017) as one vmapped training run.

M members differ in their initialisation key; they see the same batches (data
order is a pure function of (seed, step)), which the paper found matters less
than the initialisation. Member m trained here equals the same model trained
alone from key m (tested), because vmap changes how the work is batched, not
what it computes.
"""
from __future__ import annotations

import jax
import numpy as np

from dl_course.engine import grid
from dl_course.engine.steps import classification_loss


def train_members(model, x, y, keys_M, *, learning_rate: float, num_steps: int,
                  batch_size: int, seed: int, steps_per_dispatch: int = 100,
                  loss_fn=classification_loss, adversarial_fraction: float = 0.0,
                  checkpoints=None):
  """Trains one member per key with Adam; returns the stacked TrainState [M].

  adversarial_fraction > 0 adds fast-gradient-sign training with epsilon that
  fraction of each input feature's range over the training set (the paper: 1 %).
  With `checkpoints` (a stage's, engine/progress.py) the members resume.
  """
  tx = grid.adam_with_rate()
  members = len(keys_M)
  states = grid.init_grid(model, tx, x[:1], keys_M, [learning_rate] * members)
  epsilon = (np.float32(adversarial_fraction) * (x.max(0) - x.min(0)).astype(np.float32)
             if adversarial_fraction > 0 else None)
  chunk = grid.make_grid_chunk(model, tx, loss_fn, epsilon)
  labels_MN = np.tile(y, (members,) + (1,) * y.ndim)
  states, _ = grid.train_grid(chunk, states, x, labels_MN, seed=seed, batch_size=batch_size,
                              num_steps=num_steps, chunk_steps=steps_per_dispatch,
                              checkpoints=checkpoints)
  return states


def member_logits(model, params_M, x) -> jax.Array:
  """Logits of every member: [M, N, C]."""
  return jax.vmap(lambda p: model.apply({'params': p}, x))(params_M)


def member_probs(model, params_M, x) -> jax.Array:
  """Softmax outputs of every member: [M, N, C]."""
  return jax.nn.softmax(member_logits(model, params_M, x), -1)


def mixture_moments(means_MN, variances_MN) -> tuple[np.ndarray, np.ndarray]:
  """Mean and variance of the uniform mixture of M Gaussians (regression ensembles)."""
  means = np.asarray(means_MN, np.float64)
  variances = np.asarray(variances_MN, np.float64)
  mean = means.mean(0)
  return mean, (variances + means ** 2).mean(0) - mean ** 2


def member_keys(seed: int, members: int) -> jax.Array:
  return jax.random.split(jax.random.key(seed), members)


__all__ = ['member_keys', 'member_logits', 'member_probs', 'mixture_moments', 'train_members']
