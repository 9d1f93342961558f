"""Tricks of the trade as small pure pieces: k-fold splits, early stopping, and
a classifier fit on the engine's own train state (so batch norm's batch_stats
and dropout's per-step keys travel exactly as in the production loop).

Batches are a pure function of (seed, step) (`chunk_indices`); evaluation runs
the model in eval mode: dropout off, batch norm on its running averages.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.data.sampler import chunk_indices
from dl_course.engine.state import TrainState, apply_model, init_train_state
from dl_course.engine.steps import classification_loss, make_train_step


def kfold_splits(num_examples: int, folds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(train [folds, n - n/folds], validation [folds, n/folds]) index arrays.

  A seeded permutation cut into `folds` equal parts; fold f validates on part f
  and trains on the rest. The n % folds examples left over by the equal cut are
  never used, so every fold has the same shapes (and the folds can be vmapped)."""
  if not 2 <= folds <= num_examples:
    raise ValueError(f'folds must be in [2, {num_examples}], got {folds}')
  size = num_examples // folds
  parts = np.random.default_rng(seed).permutation(num_examples)[:size * folds].reshape(folds, size)
  train = np.stack([np.concatenate([parts[g] for g in range(folds) if g != f])
                    for f in range(folds)])
  return train, parts


def early_stopping_point(values, patience: int) -> tuple[int, int]:
  """(best, stop) evaluation indices for 'stop after `patience` evaluations
  without a new minimum, keep the best': stop is where training would have
  ended (the last index if patience never ran out), best the argmin up to it."""
  best, stop = 0, len(values) - 1
  for i, value in enumerate(values):
    if value < values[best]:
      best = i
    if i - best >= patience:
      stop = i
      break
  return best, stop


def evaluate(model, state: TrainState, x, y) -> dict[str, float]:
  """Mean loss and accuracy of the model in eval mode on (x, y)."""
  logits, _ = apply_model(model.apply, state.params, state.model_state, x, train=False)
  losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
  return {'loss': losses.mean(), 'accuracy': jnp.mean(jnp.argmax(logits, -1) == y)}


def fit_classifier(model, tx: optax.GradientTransformation, x, y, *, seed: int, num_steps: int,
                   batch_size: int, eval_every: int, eval_sets: Mapping[str, tuple],
                   early_stopping: tuple[str, int] | None = None,
                   augment: Callable | None = None, initial_params=None):
  """Trains `model` with `tx` on (x, y); every eval_every steps evaluates each
  named (x, y) of eval_sets. Returns (final state, history, kept state) where
  history = {'step': [...], 'train_loss': [...], '<set>/loss': [...], '<set>/accuracy': [...]}.

  early_stopping=(set name, patience) also keeps the state with the lowest loss
  on that set until the patience runs out (`early_stopping_point`): the model an
  early-stopped run returns. Training still runs to num_steps, so the history
  shows what stopping avoided; the kept state is independent of the steps after
  the stop because every step depends on the past only.
  augment(key, xb) -> xb transforms each training batch, key = fold_in(aug key, step).
  initial_params replaces the freshly initialised parameters (a pretrained net)."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  state = init_train_state(model, tx, x[:2], jax.random.key(seed))
  if initial_params is not None:
    state = state.replace(params=initial_params, opt_state=tx.init(initial_params))
  train_step = make_train_step(model.apply, tx, classification_loss)
  augment_key = jax.random.fold_in(jax.random.key(seed), 1 << 20)

  def one_step(state, idx):
    xb = x[idx]
    if augment is not None:
      xb = augment(jax.random.fold_in(augment_key, state.step), xb)
    state, metrics = train_step(state, {'x': xb, 'y': y[idx]})
    return state, metrics['loss']

  @jax.jit
  def block(state, indices_KB):
    state, losses = jax.lax.scan(one_step, state, indices_KB)
    return state, losses.mean()

  jit_evaluate = jax.jit(lambda state, xe, ye: evaluate(model, state, xe, ye))
  eval_sets = {name: (jnp.asarray(xe), jnp.asarray(ye)) for name, (xe, ye) in eval_sets.items()}
  history = {'step': [], 'train_loss': []}
  kept, best_loss, best_index, stopped = state, np.inf, 0, False
  for first in range(0, num_steps, eval_every):
    count = min(eval_every, num_steps - first)
    state, loss = block(state, jnp.asarray(chunk_indices(seed, first, count, len(y), batch_size)))
    history['step'].append(first + count)
    history['train_loss'].append(float(loss))
    for name, (xe, ye) in eval_sets.items():
      for metric, value in jit_evaluate(state, xe, ye).items():
        history.setdefault(f'{name}/{metric}', []).append(float(value))
    if early_stopping and not stopped:
      name, patience = early_stopping
      index = len(history['step']) - 1
      if history[f'{name}/loss'][-1] < best_loss:
        kept, best_loss, best_index = state, history[f'{name}/loss'][-1], index
      stopped = index - best_index >= patience
  return state, history, kept
