"""The 2-D test densities of the flow literature (FFJORD's 8gaussians, moons,
checkerboard, pinwheel, 2spirals, with its scalings), written fresh, with
their exact log-densities so that a model's test NLL can be set against the
lower limit it cannot beat: the entropy H(p) = E_p[-log p(x)].

`sample(name, key, n)` -> (x [n, 2], log p(x) [n]); `entropy(name)` estimates
H(p) by Monte Carlo from the exact log-densities. Where p is a curve blurred
by noise (moons, 2spirals) log p is the noise kernel integrated along the
curve by a fine midpoint rule (its spacing is < 1/20 of the noise scale).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp, ndtr
from jax.scipy.stats import norm

DENSITIES = ('8gaussians', 'moons', 'checkerboard', 'pinwheel', '2spirals')
LOG_2PI = math.log(2 * math.pi)


def _gaussian_log_kernel(diff, std):
  """log N(diff; 0, std^2 I) in 2-D, summed over the last axis."""
  return -0.5 * jnp.sum(diff ** 2, -1) / std ** 2 - LOG_2PI - 2 * math.log(std)


# 8gaussians: N(4c/1.414, (0.5/1.414)^2 I) for the 8 unit vectors c at multiples of 45 degrees.
EIGHT_CENTRES = 4 / 1.414 * np.array([(math.cos(a), math.sin(a))
                                       for a in np.arange(8) * math.pi / 4], np.float32)
EIGHT_STD = 0.5 / 1.414


def _eight_gaussians(key, n):
  k_mode, k_noise = jax.random.split(key)
  modes = jax.random.randint(k_mode, (n,), 0, 8)
  x = jnp.asarray(EIGHT_CENTRES)[modes] + EIGHT_STD * jax.random.normal(k_noise, (n, 2))
  return x


def _eight_gaussians_log_density(x):
  diff = x[:, None, :] - jnp.asarray(EIGHT_CENTRES)[None]
  return logsumexp(_gaussian_log_kernel(diff, EIGHT_STD), axis=1) - math.log(8)


# checkerboard: uniform on 8 of the 16 unit squares of [-2, 2]^2, scaled by 2: area 32.
def _checkerboard(key, n):
  k1, k2, k3 = jax.random.split(key, 3)
  x1 = jax.random.uniform(k1, (n,)) * 4 - 2
  x2 = jax.random.uniform(k2, (n,)) - 2.0 * jax.random.randint(k3, (n,), 0, 2)
  x2 = x2 + jnp.floor(x1) % 2
  return 2 * jnp.stack([x1, x2], -1)


def _checkerboard_log_density(x):
  cell = jnp.floor(x / 2)
  inside = jnp.all(jnp.abs(x) <= 4, -1) & ((cell[:, 0] + cell[:, 1]) % 2 == 0)
  return jnp.where(inside, -math.log(32.0), -jnp.inf)


# moons: sklearn's two half circles with N(0, 0.1^2) noise, then 2x + (-1, -0.2).
def _moon_curves(t):
  outer = jnp.stack([jnp.cos(t), jnp.sin(t)], -1)
  inner = jnp.stack([1 - jnp.cos(t), 0.5 - jnp.sin(t)], -1)
  return 2 * outer + jnp.array([-1.0, -0.2]), 2 * inner + jnp.array([-1.0, -0.2])


def _moons(key, n):
  k_t, k_which, k_noise = jax.random.split(key, 3)
  outer, inner = _moon_curves(jax.random.uniform(k_t, (n,)) * math.pi)
  which = jax.random.bernoulli(k_which, 0.5, (n,))[:, None]
  return jnp.where(which, outer, inner) + 0.2 * jax.random.normal(k_noise, (n, 2))


def _moons_log_density(x, nodes: int = 800):
  t = (jnp.arange(nodes) + 0.5) * math.pi / nodes
  curves = jnp.concatenate(_moon_curves(t))  # [2 * nodes, 2], each node weight 1 / (2 nodes)
  return _along_curve(x, lambda diff: _gaussian_log_kernel(diff, 0.2), curves,
                      jnp.full((2 * nodes,), -math.log(2 * nodes)))


# pinwheel: 5 arms; features f ~ N((1, 0), diag(0.3^2, 0.1^2)) rotated by the
# arm's angle + 0.25 exp(f_0), then scaled by 2.
_ARM_ANGLES = np.linspace(0, 2 * math.pi, 5, endpoint=False)


def _pinwheel_map(f, arm_angle):
  angle = arm_angle + 0.25 * jnp.exp(f[0])
  c, s = jnp.cos(angle), jnp.sin(angle)
  return 2 * jnp.array([f[0] * c + f[1] * s, -f[0] * s + f[1] * c])


def _pinwheel(key, n):
  return _pinwheel_with_log_density(key, n)[0]


def _pinwheel_with_log_density(key, n):
  """The map f -> x is injective on each arm and the arms are far apart
  (> 6 tangential standard deviations where they start), so log p(x) =
  log N(f) - log|det ∂x/∂f| - log 5, by the change of variables."""
  k_arm, k_f = jax.random.split(key)
  arms = jax.random.randint(k_arm, (n,), 0, 5)
  std = jnp.array([0.3, 0.1])
  f = jax.random.normal(k_f, (n, 2)) * std + jnp.array([1.0, 0.0])
  arm_angles = jnp.asarray(_ARM_ANGLES, jnp.float32)[arms]
  x = jax.vmap(_pinwheel_map)(f, arm_angles)
  jacobians = jax.vmap(jax.jacobian(_pinwheel_map))(f, arm_angles)
  log_det = jnp.log(jnp.abs(jnp.linalg.det(jacobians)))
  log_f = jnp.sum(norm.logpdf(f, jnp.array([1.0, 0.0]), std), -1)
  return x, log_f - log_det - math.log(5)


# 2spirals: n = 3 pi sqrt(u); the point (-n cos n, n sin n) + U[0, 0.5]^2, or
# its negation, divided by 3, plus N(0, 0.1^2) noise.
def _spiral_curve(n):
  return jnp.stack([-jnp.cos(n) * n, jnp.sin(n) * n], -1) / 3


def _two_spirals(key, n):
  k_n, k_box, k_sign, k_noise = jax.random.split(key, 4)
  turns = jnp.sqrt(jax.random.uniform(k_n, (n,))) * 3 * math.pi
  point = _spiral_curve(turns) + jax.random.uniform(k_box, (n, 2)) * 0.5 / 3
  sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, (n,)), 1.0, -1.0)[:, None]
  return sign * point + 0.1 * jax.random.normal(k_noise, (n, 2))


def _two_spirals_log_density(x, nodes: int = 3000):
  """Mixture over the curve parameter n (density 2n / (3 pi)^2) of a box of
  side 1/6 blurred by N(0, 0.01): per axis (Phi((d)/0.1) - Phi((d - 1/6)/0.1)) * 6."""
  width = 3 * math.pi / nodes
  turns = (jnp.arange(nodes) + 0.5) * width
  log_weights = jnp.log(2 * turns / (3 * math.pi) ** 2 * width)
  curve = _spiral_curve(turns)

  def blurred_box(diff):
    per_axis = ndtr(diff / 0.1) - ndtr((diff - 0.5 / 3) / 0.1)
    return jnp.sum(jnp.log(jnp.maximum(per_axis, 1e-30) * 6), -1)

  positive = _along_curve(x, blurred_box, curve, log_weights)
  negative = _along_curve(-x, blurred_box, curve, log_weights)
  return jnp.logaddexp(positive, negative) - math.log(2)


def _along_curve(x, log_kernel: Callable, curve, log_weights, chunk: int = 1024):
  """log sum_j w_j k(x - curve_j), in chunks of x to bound memory."""
  @jax.jit
  def one_chunk(xs):
    return logsumexp(log_kernel(xs[:, None, :] - curve[None]) + log_weights[None], axis=1)

  pad = (-len(x)) % chunk
  padded = jnp.concatenate([x, jnp.zeros((pad, 2), x.dtype)])
  out = jax.lax.map(one_chunk, padded.reshape(-1, chunk, 2)).reshape(-1)
  return out[:len(x)]


_SAMPLERS = {'8gaussians': (_eight_gaussians, _eight_gaussians_log_density),
             'moons': (_moons, _moons_log_density),
             'checkerboard': (_checkerboard, _checkerboard_log_density),
             '2spirals': (_two_spirals, _two_spirals_log_density)}


def draw(name: str, key, n: int):
  """Samples x [n, 2] of the density `name` (no log-density: cheap, for training)."""
  if name == 'pinwheel':
    return _pinwheel(key, n)
  if name not in _SAMPLERS:
    raise ValueError(f'density {name!r}: one of {", ".join(DENSITIES)}')
  return _SAMPLERS[name][0](key, n)


def sample(name: str, key, n: int):
  """(x [n, 2], log p(x) [n]) for the density `name`."""
  if name == 'pinwheel':
    return _pinwheel_with_log_density(key, n)
  if name not in _SAMPLERS:
    raise ValueError(f'density {name!r}: one of {", ".join(DENSITIES)}')
  draw, log_density = _SAMPLERS[name]
  x = draw(key, n)
  return x, log_density(x)


def log_density(name: str, x):
  """Exact log p(x) on a grid (for plots); pinwheel has none (it is defined by its sampler)."""
  if name not in _SAMPLERS:
    raise ValueError(f'density {name!r} has no closed-form log-density here')
  return _SAMPLERS[name][1](x)


def entropy(name: str, key, n: int = 100_000) -> tuple[float, float]:
  """(H(p) in nats, its Monte Carlo standard error)."""
  _, log_p = sample(name, key, n)
  values = -np.asarray(log_p, np.float64)
  return float(values.mean()), float(values.std() / math.sqrt(n))
