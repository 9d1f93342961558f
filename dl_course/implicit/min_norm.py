"""Study 1: gradient descent on underdetermined least squares finds the
minimum-norm solution.

GD on L(W) = ||XW - Y||² / 2n only ever moves W along the row space of X, so
from W0 it converges to the interpolating solution nearest W0:
W0 + X⁺(Y - X W0); from zero that is the pseudo-inverse solution X⁺Y. Adam's
per-coordinate scaling leaves the row space, so it lands elsewhere.

Two problems: Gaussian X (n < d), and a wide linear model on real features
(random ReLU features of MNIST-1D, a two-layer net with a frozen first layer).
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import CHECK, FINDING, Claim, at_least, at_most
from dl_course.config import check_range
from dl_course.errors import ConfigError
from dl_course.implicit.linear import log_spaced_steps, run_optimizer
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('gaussian.num_examples', 'gaussian.dim', 'features.num_examples',
              'features.dim', 'adam_steps'):
    check_range(config, key, 1, integer=True)
  for problem in ('gaussian', 'features'):
    section = config[problem]
    if section.num_examples >= section.dim:
      raise ConfigError(f'{problem}.num_examples', section.num_examples,
                        f'< {problem}.dim={section.dim} (the problem must be underdetermined)')
  check_range(config, 'gd_tolerance', 0, 1e-2, low_open=True)
  check_range(config, 'adam_learning_rate', 0, low_open=True)


def gaussian_problem(config) -> tuple[np.ndarray, np.ndarray]:
  rng = np.random.default_rng([config.seed, 1])
  n, d = config.gaussian.num_examples, config.gaussian.dim
  x = rng.standard_normal((n, d)) / np.sqrt(d)
  y = x @ rng.standard_normal((d, 1)) + 0.1 * rng.standard_normal((n, 1))
  return x, y


def random_feature_problem(config) -> tuple[np.ndarray, np.ndarray]:
  """ReLU(x V) features of the first n MNIST-1D training signals, one-hot targets,
  both centred over the examples."""
  train = data.load(config.features.dataset, 'train')
  x = train.x[:config.features.num_examples].reshape(config.features.num_examples, -1)
  x = (x - x.mean(0)) / (x.std(0) + 1e-8)
  rng = np.random.default_rng([config.seed, 2])
  v = rng.standard_normal((x.shape[1], config.features.dim)) / np.sqrt(x.shape[1])
  features = np.maximum(x.astype(np.float64) @ v, 0.0)
  features -= features.mean(0)  # the mean direction would dominate the spectrum
  features /= np.sqrt(config.features.dim)
  targets = np.eye(train.info.num_classes)[train.y[:config.features.num_examples]]
  # Centred features have rank n - 1 with 1ᵀF = 0, so centre the targets too:
  # then an interpolating solution exists.
  return features, targets - targets.mean(0)


def gd_schedule(x: np.ndarray, tolerance: float) -> tuple[float, int]:
  """The step 1/λ_max and the number of steps that shrink the row-space error
  by tolerance/100: the Hessian XᵀX/n has λ = σ²/n, and each step contracts the
  error by (1 - σ_min²/σ_max²)."""
  singular = np.linalg.svd(x, compute_uv=False)
  singular = singular[singular > singular[0] * 1e-10]
  contraction = 1 - (singular[-1] / singular[0]) ** 2
  steps = int(np.ceil(np.log(tolerance / 100) / np.log(contraction)))
  return x.shape[0] / singular[0] ** 2, steps


def solve(x, y, w0, tx, num_steps, min_norm_solution=None):
  """Runs `tx` on the mean squared error; tracks ||W - X⁺Y|| and the residual.
  `min_norm_solution` (X⁺Y) is computed when not given."""
  n = x.shape[0]
  if min_norm_solution is None:
    min_norm_solution = np.linalg.pinv(x) @ y
  with jax.enable_x64(True):
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    pinv = jnp.asarray(min_norm_solution)
    loss = lambda w: 0.5 * jnp.sum((xj @ w - yj) ** 2) / n
    track = lambda w: jnp.stack([jnp.linalg.norm(w - pinv), jnp.linalg.norm(xj @ w - yj)])
    return run_optimizer(loss, w0, tx, num_steps, track)


def problem_results(name, x, y, config, log) -> dict:
  x_pinv = np.linalg.pinv(x)
  pinv = x_pinv @ y
  learning_rate, steps = gd_schedule(x, config.gd_tolerance)
  gd = optax.sgd(learning_rate)
  rng = np.random.default_rng([config.seed, 3])
  w0 = rng.standard_normal(pinv.shape) * np.linalg.norm(pinv) / np.sqrt(pinv.size)
  nearest = w0 + x_pinv @ (y - x @ w0)
  adam = optax.adam(optax.cosine_decay_schedule(config.adam_learning_rate, config.adam_steps))
  runs = {
      'gd_from_zero': solve(x, y, np.zeros_like(pinv), gd, steps, pinv),
      'gd_from_w0': solve(x, y, w0, gd, steps, pinv),
      'adam_from_zero': solve(x, y, np.zeros_like(pinv), adam, config.adam_steps, pinv),
  }
  rel = lambda w, target: float(np.linalg.norm(w - target) / np.linalg.norm(target))
  curves = {}
  for method, (_, tracked) in runs.items():
    steps_logged = log_spaced_steps(len(tracked), 50)
    distance = tracked[steps_logged - 1, 0] / np.linalg.norm(pinv)
    curves[method] = {'step': steps_logged.tolist(), 'distance': distance.tolist()}
    for step, value, residual in zip(steps_logged, distance, tracked[steps_logged - 1, 1]):
      log({'problem': name, 'method': method, 'step': int(step),
           'distance_to_pinv': float(value), 'residual': float(residual)})
  adam_w = runs['adam_from_zero'][0]
  return {
      'shape': list(x.shape), 'gd_learning_rate': learning_rate, 'gd_steps': steps,
      'gd_from_zero_vs_pinv': rel(runs['gd_from_zero'][0], pinv),
      'gd_from_w0_vs_nearest': rel(runs['gd_from_w0'][0], nearest),
      'gd_from_w0_vs_pinv': rel(runs['gd_from_w0'][0], pinv),
      'adam_vs_pinv': rel(adam_w, pinv),
      'adam_norm_over_pinv_norm': float(np.linalg.norm(adam_w) / np.linalg.norm(pinv)),
      'adam_residual_over_y': float(np.linalg.norm(x @ adam_w - y) / np.linalg.norm(y)),
      'curves': curves,
  }


def run(config, log) -> dict:
  return {'gaussian': problem_results('gaussian', *gaussian_problem(config), config, log),
          'features': problem_results('features', *random_feature_problem(config), config, log)}


def claims(config, summary) -> list[Claim]:
  out = []
  for name, label in (('gaussian', 'Gaussian X'), ('features', 'MNIST-1D ReLU features')):
    s = summary[name]
    shape = f'{label} {s["shape"][0]}x{s["shape"][1]}'
    out += [
        at_most(f'min-norm: GD from 0 -> X+Y, {shape} (rel. error)', s['gd_from_zero_vs_pinv'],
                config.gd_tolerance, digits=1, fmt='e', kind=CHECK),
        at_most(f'min-norm: GD from W0 -> nearest solution, {shape}', s['gd_from_w0_vs_nearest'],
                config.gd_tolerance, digits=1, fmt='e', kind=CHECK),
        at_most(f'min-norm: Adam from 0 interpolates, {shape} (||XW-Y||/||Y||)',
                s['adam_residual_over_y'], config.claim.max_adam_residual, digits=1, fmt='e',
                kind=FINDING),
        at_least(f'min-norm: ... but is not min-norm, {shape} (rel. distance)',
                 s['adam_vs_pinv'], config.claim.min_adam_distance, digits=3, kind=FINDING),
    ]
  return out


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for ax, name in zip(axes, ('gaussian', 'features')):
    for method, curve in summary[name]['curves'].items():
      ax.loglog(curve['step'], curve['distance'], label=method.replace('_', ' '))
    ax.set_title(f'{name}: X is {summary[name]["shape"][0]}x{summary[name]["shape"][1]}')
    ax.set_xlabel('step')
    ax.set_ylabel('||W - X+Y|| / ||X+Y||')
    ax.grid(alpha=0.3)
    ax.legend()
  save_figure(fig, workdir / 'min_norm.png')
