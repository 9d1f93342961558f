"""The train state: everything a run needs to continue, as one pytree."""
from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  """step: updates applied so far; key: the run's root key (per-step keys are
  `fold_in(key, step)`); model_state: non-parameter collections such as
  batch_stats ({} when the model has none)."""
  step: jax.Array
  params: Any
  opt_state: Any
  key: jax.Array
  model_state: Any


def init_train_state(model, tx: optax.GradientTransformation, sample_x, key) -> TrainState:
  """Initialises params from `fold_in(key, 0)`; keeps `key` as the run's root key."""
  init_key, root_key = jax.random.split(key)
  variables = model.init({'params': init_key, 'dropout': init_key}, sample_x, train=False)
  params = variables['params']
  model_state = {k: v for k, v in variables.items() if k != 'params'}
  return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                    key=root_key, model_state=model_state)


def init_each(init, keys):
  """init(key) for every key, stacked on a leading axis: the one way the project
  initialises several runs, seeds or members at once. One key after another
  (`lax.map`), never `vmap`: orthogonal initialisers (PPO's networks, a GRU's
  recurrent kernel) are QR decompositions, and under vmap they become jaxlib
  0.10's batched CPU QR kernel, which waits on sub-tasks queued to its own full
  thread pool and deadlocked processes (WORKSPACE.md, "The CPU hang"). Each
  entry is bit-identical to init(key) alone (tested)."""
  return jax.lax.map(init, keys)


def apply_model(apply_fn, state_params, model_state, x, *, train: bool, key=None):
  """Runs the model; in training mode returns updated mutable collections too."""
  variables = {'params': state_params, **model_state}
  rngs = {'dropout': key} if key is not None else None
  if train and model_state:
    out, updates = apply_fn(variables, x, train=True, rngs=rngs, mutable=list(model_state))
    return out, {**model_state, **updates}
  return apply_fn(variables, x, train=train, rngs=rngs), model_state
