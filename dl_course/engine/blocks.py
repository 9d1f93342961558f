"""Minibatch training as jitted blocks of `lax.scan` steps, evaluated between
blocks: what the fundamentals and generative studies share when they train a
model on an in-memory dataset (batches from `chunk_indices`, a pure function of
(seed, step))."""
from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.data.sampler import chunk_indices
from dl_course.engine.guard import check_finite
from dl_course.engine.loop import progress_bar


def train_in_blocks(loss_fn: Callable, evaluate: Callable, params, tx, x, y, *, seed: int,
                    num_steps: int, batch_size: int, eval_every: int,
                    log: Callable[[int, float, float], None] | None = None,
                    key: jax.Array | None = None,
                    metric_names: tuple[str, str] = ('train/loss', 'test/evaluation'),
                    checkpoints=None):
  """Trains `params` on loss_fn(params, xb, yb) for num_steps; after every
  eval_every steps records the block's mean loss and evaluate(params).
  Returns (params, losses, evaluations).
  With a `key`, the loss is stochastic and may follow a schedule:
  loss_fn(params, xb, yb, fold_in(key, step), step).
  Each block's loss and evaluation go through the NaN guard under `metric_names`.
  With `checkpoints` (a stage's, engine/progress.py) block ends may be
  checkpointed, and a rerun continues from the latest one."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  indices = jnp.asarray(chunk_indices(seed, 0, num_steps, len(y), batch_size))
  steps = jnp.arange(num_steps)

  def step(carry, index_and_step):
    params, state = carry
    index, step_number = index_and_step
    extra = () if key is None else (jax.random.fold_in(key, step_number), step_number)
    value, grads = jax.value_and_grad(loss_fn)(params, x[index], y[index], *extra)
    updates, state = tx.update(grads, state, params)
    return (optax.apply_updates(params, updates), state), value

  @jax.jit
  def block(params, state, block_indices, block_steps):
    (params, state), values = jax.lax.scan(step, (params, state), (block_indices, block_steps))
    return params, state, values.mean(), evaluate(params)

  state = tx.init(params)
  losses, evaluations, start = [], [], 0
  if checkpoints is not None:
    restored, start, kept = checkpoints.restore({'params': params, 'opt_state': state})
    params, state = restored['params'], restored['opt_state']
    if kept is not None:
      losses, evaluations = kept['losses'], kept['evaluations']
  with progress_bar(num_steps, initial=start, leave=False) as bar:
    for first in range(start, num_steps, eval_every):
      params, state, value, evaluation = block(params, state, indices[first:first + eval_every],
                                               steps[first:first + eval_every])
      losses.append(float(value))
      evaluations.append(float(evaluation))
      bar.update(min(eval_every, num_steps - first))
      bar.set_postfix(loss=f'{losses[-1]:.4g}', refresh=False)
      check_finite(dict(zip(metric_names, (losses[-1], evaluations[-1]))),
                   first_step=first + eval_every,
                   last_good_step=checkpoints and checkpoints.last_good_step)
      if log:
        log(first + eval_every, losses[-1], evaluations[-1])
      if checkpoints is not None:
        checkpoints.chunk_done(first + eval_every, {'params': params, 'opt_state': state},
                               {'losses': losses, 'evaluations': evaluations},
                               last=first + eval_every >= num_steps)
  return params, np.array(losses), np.array(evaluations)


def block_ends(num_steps: int, eval_every: int) -> list[int]:
  """The steps at which train_in_blocks records: eval_every, 2·eval_every, ..., num_steps."""
  return list(range(eval_every, num_steps + 1, eval_every))


def train_args(config) -> dict:
  """train_in_blocks' run length, batch and logging grid from a config's `train`
  section, with the data-order seed: the same four keys in every study."""
  return dict(seed=config.seed, num_steps=config.train.num_steps,
              batch_size=config.train.batch_size, eval_every=config.train.eval_every)
