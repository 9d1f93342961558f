"""The classic optimizers written out as Optax `GradientTransformation`s: an
`init(params) -> state` and an `update(grads, state, params) -> (updates,
state)`, where `updates` is what gets added to the parameters. Each is the
textbook update rule, with the same defaults as Optax's built-in so the two can
be compared step for step (tests/test_fundamentals.py).

  sgd        θ ← θ − η g
  momentum   v ← g + μ v;              θ ← θ − η v           (heavy ball)
  nesterov   v ← g + μ v;              θ ← θ − η (g + μ v)   (look-ahead)
  adagrad    s ← s + g²;               θ ← θ − η g / √(s + ε)
  rmsprop    s ← ρ s + (1 − ρ) g²;     θ ← θ − η g / √(s + ε)
  adam       m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
             θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
  adamw      adam's step plus decoupled weight decay: θ ← θ − η (adam + λ θ)
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


def _map(fn, *trees):
  return jax.tree.map(fn, *trees)


class NoState(NamedTuple):
  pass


class VelocityState(NamedTuple):
  velocity: optax.Params


class SquaresState(NamedTuple):
  squares: optax.Params


class AdamState(NamedTuple):
  count: jax.Array
  mean: optax.Params
  second_moment: optax.Params


def sgd(learning_rate: float) -> optax.GradientTransformation:
  return optax.GradientTransformation(
      lambda params: NoState(),
      lambda grads, state, params=None: (_map(lambda g: -learning_rate * g, grads), state))


def momentum(learning_rate: float, beta: float = 0.9,
             nesterov: bool = False) -> optax.GradientTransformation:
  def init(params):
    return VelocityState(_map(jnp.zeros_like, params))

  def update(grads, state, params=None):
    velocity = _map(lambda g, v: g + beta * v, grads, state.velocity)
    direction = _map(lambda g, v: g + beta * v, grads, velocity) if nesterov else velocity
    return _map(lambda d: -learning_rate * d, direction), VelocityState(velocity)

  return optax.GradientTransformation(init, update)


def nesterov(learning_rate: float, beta: float = 0.9) -> optax.GradientTransformation:
  return momentum(learning_rate, beta, nesterov=True)


def adagrad(learning_rate: float, initial_accumulator: float = 0.1,
            eps: float = 1e-7) -> optax.GradientTransformation:
  def init(params):
    return SquaresState(_map(lambda p: jnp.full_like(p, initial_accumulator), params))

  def update(grads, state, params=None):
    squares = _map(lambda g, s: s + g ** 2, grads, state.squares)
    return (_map(lambda g, s: -learning_rate * g / jnp.sqrt(s + eps), grads, squares),
            SquaresState(squares))

  return optax.GradientTransformation(init, update)


def rmsprop(learning_rate: float, decay: float = 0.9,
            eps: float = 1e-8) -> optax.GradientTransformation:
  def init(params):
    return SquaresState(_map(jnp.zeros_like, params))

  def update(grads, state, params=None):
    squares = _map(lambda g, s: decay * s + (1 - decay) * g ** 2, grads, state.squares)
    return (_map(lambda g, s: -learning_rate * g / jnp.sqrt(s + eps), grads, squares),
            SquaresState(squares))

  return optax.GradientTransformation(init, update)


def adamw(learning_rate: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 1e-4) -> optax.GradientTransformation:
  def init(params):
    return AdamState(jnp.zeros([], jnp.int32), _map(jnp.zeros_like, params),
                     _map(jnp.zeros_like, params))

  def update(grads, state, params=None):
    if weight_decay and params is None:
      raise ValueError('adamw needs the parameters for its weight decay')
    count = state.count + 1
    mean = _map(lambda g, m: b1 * m + (1 - b1) * g, grads, state.mean)
    second = _map(lambda g, v: b2 * v + (1 - b2) * g ** 2, grads, state.second_moment)
    correct1, correct2 = 1 - b1 ** count, 1 - b2 ** count
    step = _map(lambda m, v: (m / correct1) / (jnp.sqrt(v / correct2) + eps), mean, second)
    if weight_decay:
      step = _map(lambda s, p: s + weight_decay * p, step, params)
    return _map(lambda s: -learning_rate * s, step), AdamState(count, mean, second)

  return optax.GradientTransformation(init, update)


def adam(learning_rate: float, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8) -> optax.GradientTransformation:
  return adamw(learning_rate, b1, b2, eps, weight_decay=0.0)


# name -> (ours, Optax's built-in); both called as f(learning_rate)
OPTIMIZERS = {
    'sgd': (sgd, optax.sgd),
    'momentum': (momentum, lambda lr: optax.sgd(lr, momentum=0.9)),
    'nesterov': (nesterov, lambda lr: optax.sgd(lr, momentum=0.9, nesterov=True)),
    'adagrad': (adagrad, optax.adagrad),
    'rmsprop': (rmsprop, optax.rmsprop),
    'adam': (adam, optax.adam),
    'adamw': (adamw, optax.adamw),
}
