"""Hessian-vector products of a dataset-mean loss, in bounded memory.

The training set is cut into equal chunks (the last one padded and masked) and
the loss is a `lax.scan` over them, so an HVP on the full set costs one chunk's
activations, whatever the set's size. HVPs are forward-over-reverse:
`jvp(grad(L))`, about 2-3 gradient evaluations each.
"""
from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

# per_example_loss(params, x_C..., y_C...) -> [C] losses
PerExampleLoss = Callable[..., jax.Array]


def chunk_dataset(x: np.ndarray, y: np.ndarray, chunk_size: int) -> dict:
  """{'x': [K, C, ...], 'y': [K, C, ...], 'mask': [K, C]}; padding rows repeat row 0."""
  n = len(x)
  chunk_size = min(chunk_size, n)
  num_chunks = -(-n // chunk_size)
  pad = num_chunks * chunk_size - n
  index = np.concatenate([np.arange(n), np.zeros(pad, np.int64)])
  mask = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)])
  shape = (num_chunks, chunk_size)
  return {'x': jnp.asarray(x[index].reshape(shape + x.shape[1:])),
          'y': jnp.asarray(y[index].reshape(shape + y.shape[1:])),
          'mask': jnp.asarray(mask.reshape(shape))}


def dataset_loss(per_example_loss: PerExampleLoss, chunks: dict) -> Callable:
  """params -> mean loss over the unmasked examples of `chunks`."""
  count = jnp.sum(chunks['mask'])

  def chunk_sum(params, chunk):
    return jnp.sum(per_example_loss(params, chunk['x'], chunk['y']) * chunk['mask'])

  def loss(params):
    if chunks['mask'].shape[0] == 1:  # no loop: XLA:CPU runs convolutions in loops slowly
      return chunk_sum(params, jax.tree.map(lambda a: a[0], chunks)) / count
    total, _ = jax.lax.scan(lambda t, chunk: (t + chunk_sum(params, chunk), None),
                            jnp.zeros((), jnp.float32), chunks)
    return total / count

  return loss


def hvp(loss: Callable, params, v):
  """H(params) @ v for pytrees `params`, `v` (forward-over-reverse)."""
  return jax.jvp(jax.grad(loss), (params,), (v,))[1]


class FlatHessian:
  """The Hessian of `loss` at `params` as a matrix-free operator on flat vectors.

  `matvec` takes and returns float64 numpy vectors (what scipy's eigensolvers
  want); the product itself runs jitted in the params' dtype. Along a training
  run, `move_to(params)` re-points the operator without recompiling.
  """

  def __init__(self, loss: Callable, params):
    flat, self.unravel = ravel_pytree(params)
    self.dim = flat.size
    self.dtype = flat.dtype
    self.params = params
    self.num_matvecs = 0
    self._hvp = jax.jit(lambda p, v: ravel_pytree(hvp(loss, p, self.unravel(v)))[0])

  def move_to(self, params) -> 'FlatHessian':
    self.params = params
    return self

  def matvec(self, v: np.ndarray) -> np.ndarray:
    self.num_matvecs += 1
    v = jnp.asarray(np.asarray(v, np.float64).reshape(-1), self.dtype)
    return np.asarray(self._hvp(self.params, v), np.float64)

  def dense(self) -> np.ndarray:
    """The full [dim, dim] Hessian, column by column (small models only: tests)."""
    return np.stack([self.matvec(e) for e in np.eye(self.dim)], axis=1)
