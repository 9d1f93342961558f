"""A multilayer perceptron with its forward and backward passes written by hand
in NumPy: the chain rule, layer by layer, the way the course derives it on paper.

Parameters are a list of layers {'w': [fan_in, fan_out], 'b': [fan_out]}. The
hidden layers apply one activation; the last layer is linear and the loss
turns its output into a scalar:
  softmax_cross_entropy  labels [N] int        (multiclass: softmax + NLL)
  logistic               labels [N] in {0, 1}  (one logistic neuron: sigmoid + NLL)
  mse                    targets [N, out]      (regression)
Every loss returns (mean loss, d loss / d output), and `backward` carries that
gradient down through the layers. `jax_loss` is the same model in jax.numpy so
that `jax.grad` can check the hand-written gradients.
"""
from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

Params = list[dict[str, np.ndarray]]


# activation: (f(z), f'(z)), both in terms of the pre-activation z
def _sigmoid(z):
  return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    'sigmoid': (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    'tanh': (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    'relu': (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
}
JAX_ACTIVATIONS = {'sigmoid': lambda z: 0.5 * (1.0 + jnp.tanh(0.5 * z)), 'tanh': jnp.tanh,
                   'relu': lambda z: jnp.maximum(z, 0.0)}


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
  shifted = logits - logits.max(axis=1, keepdims=True)
  log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
  n = len(labels)
  loss = -log_probs[np.arange(n), labels].mean()
  grad = np.exp(log_probs)
  grad[np.arange(n), labels] -= 1.0  # d/dz of -log softmax(z)_y = softmax(z) - onehot(y)
  return loss, grad / n


def logistic(logits: np.ndarray, labels: np.ndarray):
  z = logits[:, 0]
  # -log sigmoid(z) for y = 1 and -log(1 - sigmoid(z)) for y = 0, both as softplus
  loss = np.mean(np.logaddexp(0.0, z) - labels * z)
  return loss, ((_sigmoid(z) - labels) / len(z))[:, None]


def mse(outputs: np.ndarray, targets: np.ndarray):
  diff = outputs - targets
  return 0.5 * np.mean(np.sum(diff ** 2, axis=1)), diff / len(diff)


LOSSES = {'softmax_cross_entropy': softmax_cross_entropy, 'logistic': logistic, 'mse': mse}


def init_mlp(rng: np.random.Generator, sizes: list[int], dtype=np.float64) -> Params:
  """Gaussian weights with variance 1/fan_in (LeCun), zero biases."""
  return [{'w': (rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype),
           'b': np.zeros(b, dtype)} for a, b in zip(sizes[:-1], sizes[1:])]


def forward(params: Params, x: np.ndarray, activation: str):
  """(output of the last, linear layer; the cache `backward` needs: each layer's
  input and pre-activation)."""
  f, _ = ACTIVATIONS[activation]
  cache, a = [], x
  for i, layer in enumerate(params):
    z = a @ layer['w'] + layer['b']
    cache.append((a, z))
    a = z if i == len(params) - 1 else f(z)
  return a, cache


def backward(params: Params, cache, grad_output: np.ndarray, activation: str) -> Params:
  """The chain rule from the output down: given dL/d(output), each layer's dL/dW
  and dL/db."""
  _, df = ACTIVATIONS[activation]
  grads = [None] * len(params)
  delta = grad_output  # dL/dz of the current layer
  for i in reversed(range(len(params))):
    a_in, _ = cache[i]
    grads[i] = {'w': a_in.T @ delta, 'b': delta.sum(axis=0)}
    if i:
      delta = (delta @ params[i]['w'].T) * df(cache[i - 1][1])
  return grads


def loss_and_grad(params: Params, x, y, activation: str, loss: str):
  output, cache = forward(params, x, activation)
  value, grad_output = LOSSES[loss](output, y)
  return value, backward(params, cache, grad_output, activation)


def loss_value(params: Params, x, y, activation: str, loss: str) -> float:
  return LOSSES[loss](forward(params, x, activation)[0], y)[0]


def finite_difference_grad(params: Params, x, y, activation: str, loss: str,
                           eps: float = 1e-6) -> Params:
  """Central differences (L(θ + ε) − L(θ − ε)) / 2ε, one parameter at a time."""
  grads = []
  for layer in params:
    layer_grads = {}
    for name, value in layer.items():
      grad = np.zeros_like(value)
      for index in np.ndindex(value.shape):
        saved = value[index]
        value[index] = saved + eps
        up = loss_value(params, x, y, activation, loss)
        value[index] = saved - eps
        down = loss_value(params, x, y, activation, loss)
        value[index] = saved
        grad[index] = (up - down) / (2 * eps)
      layer_grads[name] = grad
    grads.append(layer_grads)
  return grads


def jax_loss(params, x, y, activation: str, loss: str):
  """The same model and losses in jax.numpy (differentiate it with jax.grad)."""
  f = JAX_ACTIVATIONS[activation]
  a = x
  for i, layer in enumerate(params):
    a = a @ layer['w'] + layer['b']
    if i < len(params) - 1:
      a = f(a)
  if loss == 'softmax_cross_entropy':
    log_probs = a - jnp.max(a, 1, keepdims=True)
    log_probs = log_probs - jnp.log(jnp.sum(jnp.exp(log_probs), 1, keepdims=True))
    return -jnp.mean(jnp.take_along_axis(log_probs, y[:, None], 1))
  if loss == 'logistic':
    return jnp.mean(jnp.logaddexp(0.0, a[:, 0]) - y * a[:, 0])
  return 0.5 * jnp.mean(jnp.sum((a - y) ** 2, 1))


def relative_error(a: Params, b: Params) -> float:
  """max |a − b| / max(|a|, |b|) over all parameters: scale-free, 0 when equal."""
  diff = max(float(np.max(np.abs(np.asarray(la[k]) - np.asarray(lb[k]))))
             for la, lb in zip(a, b) for k in la)
  scale = max(max(float(np.max(np.abs(np.asarray(l[k])))) for l in a for k in l),
              max(float(np.max(np.abs(np.asarray(l[k])))) for l in b for k in l), 1e-30)
  return diff / scale


def sgd_step(params: Params, grads: Params, learning_rate: float) -> Params:
  return [{k: layer[k] - learning_rate * grad[k] for k in layer}
          for layer, grad in zip(params, grads)]
