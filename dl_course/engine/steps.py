"""Step builders: `train_step(state, batch) -> (state, metrics)` and evaluation sums.

A task supplies `loss_fn(outputs, batch) -> (loss, metrics)` for training and
`per_example_fn(outputs, batch) -> {name: [B] values}` for evaluation.
"""
from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from dl_course.engine.state import TrainState, apply_model


def classification_loss(logits_BC, batch):
  losses_B = optax.softmax_cross_entropy_with_integer_labels(logits_BC, batch['y'])
  accuracy = jnp.mean(jnp.argmax(logits_BC, -1) == batch['y'])
  return losses_B.mean(), {'loss': losses_B.mean(), 'accuracy': accuracy}


def classification_per_example(logits_BC, batch):
  losses_B = optax.softmax_cross_entropy_with_integer_labels(logits_BC, batch['y'])
  return {'loss': losses_B, 'accuracy': (jnp.argmax(logits_BC, -1) == batch['y']).astype(jnp.float32)}


def make_train_step(apply_fn, tx: optax.GradientTransformation, loss_fn: Callable):
  """One SGD-family update; logs grad and param norms (the NaN guard reads them)."""

  def train_step(state: TrainState, batch):
    step_key = jax.random.fold_in(state.key, state.step)

    def objective(params):
      outputs, model_state = apply_model(apply_fn, params, state.model_state, batch['x'],
                                         train=True, key=step_key)
      loss, metrics = loss_fn(outputs, batch)
      return loss, (metrics, model_state)

    grads, (metrics, model_state) = jax.grad(objective, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {**metrics, 'grad_norm': optax.global_norm(grads),
               'param_norm': optax.global_norm(params)}
    new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state,
                              model_state=model_state)
    return new_state, metrics

  return train_step


def scan_steps(train_step):
  """K steps in one XLA loop: batches carry a leading [K] axis."""
  def run(state, batches):
    return jax.lax.scan(train_step, state, batches)
  return run


def make_eval_sums(apply_fn, per_example_fn: Callable):
  """(state, batch with a 0/1 'mask') -> {name: sum over unmasked examples, 'count'}."""

  def eval_sums(state: TrainState, batch):
    outputs, _ = apply_model(apply_fn, state.params, state.model_state, batch['x'], train=False)
    values = per_example_fn(outputs, batch)
    mask = batch['mask']
    sums = {k: jnp.sum(v * mask) for k, v in values.items()}
    return {**sums, 'count': jnp.sum(mask)}

  return eval_sums
