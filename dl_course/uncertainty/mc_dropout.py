"""MC dropout (Gal & Ghahramani 2016): dropout left on at test time, T masks,
predictions averaged in probability space.

Mask t uses `fold_in(key, t)`, so a prediction is a pure function of (params,
x, key, T) and sample t is the same whatever T is. The T forward passes are one
vmap.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


@functools.partial(jax.jit, static_argnames=('apply_fn', 'num_samples'))
def mc_dropout_probs(apply_fn, params, x, key, num_samples: int):
  """Softmax outputs under `num_samples` dropout masks: [T, N, C]."""
  def one(t):
    logits = apply_fn({'params': params}, x, train=True,
                      rngs={'dropout': jax.random.fold_in(key, t)})
    return jax.nn.softmax(logits, axis=-1)
  return jax.vmap(one)(jnp.arange(num_samples))

