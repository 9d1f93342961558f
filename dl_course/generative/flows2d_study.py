"""Normalizing flows on the 2-D test densities, against the limit no model can
beat: the data's own entropy.

Each flow is trained by maximum likelihood on fresh samples (step t's batch
is a pure function of (seed, t): infinite data, so the test NLL measures the
fit, not overfitting), then evaluated on 20,000 fresh test samples. Because
the densities' exact log p is known (dl_course.generative.toy2d), the gap
  NLL - H(p) = E_p[log p(x) - log q(x)] = KL(p || q) >= 0
is estimated on the same test samples, which cancels most of the Monte Carlo
noise. The baseline is the Gaussian fitted to the training data.

Models: the neural spline flow (rational-quadratic spline couplings; the one
the claims are about) and, for comparison, RealNVP (affine couplings) and MAF.
"""
from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course.claims import FINDING, Claim, at_most
from dl_course.config import check_choice, check_multiple, check_range
from dl_course.engine.guard import check_finite
from dl_course.errors import ConfigError
from dl_course.generative import flows, toy2d
from dl_course.plots import plt, save_figure

MODELS = ('spline', 'realnvp', 'maf')
PLOT_RANGE, GRID = 4.5, 90


def plot_grid():
  axis = np.linspace(-PLOT_RANGE, PLOT_RANGE, GRID)
  xx, yy = np.meshgrid(axis, axis)
  return jnp.asarray(np.stack([xx.ravel(), yy.ravel()], -1), jnp.float32)


def validate(config) -> None:
  for key in ('train.num_steps', 'train.batch_size', 'num_layers', 'hidden', 'num_bins',
              'test_size', 'steps_per_block'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'gap_target', 0, low_open=True)
  for key in ('densities', 'comparison_models'):
    if not isinstance(config[key], (list, tuple)):
      raise ConfigError(key, config[key], 'a list')
  if not config.densities:
    raise ConfigError('densities', config.densities, 'a non-empty list of ' +
                      ', '.join(toy2d.DENSITIES))
  for name in config.densities:
    if name not in toy2d.DENSITIES:
      raise ConfigError('densities', name, 'one of ' + ', '.join(toy2d.DENSITIES))
  for name in config.comparison_models:
    if name not in MODELS[1:]:
      raise ConfigError('comparison_models', name, 'one of ' + ', '.join(MODELS[1:]))
  check_multiple(config, 'train.num_steps', 'steps_per_block')
  check_choice(config, 'primary_model', MODELS)


def make_flow(model: str, config):
  hidden = (config.hidden, config.hidden)
  if model == 'spline':
    return flows.neural_spline(2, config.num_layers, hidden, config.num_bins)
  if model == 'realnvp':
    return flows.realnvp(2, 2 * config.num_layers, hidden)
  return flows.maf(2 * config.num_layers, hidden)


def train_flow(flow, density: str, config, key):
  """Adam with cosine decay on fresh batches; returns the variables and the loss per block."""
  variables = flow.init(key, toy2d.draw(density, jax.random.fold_in(key, 2**31), 4096))
  schedule = optax.cosine_decay_schedule(config.optimizer.learning_rate, config.train.num_steps)
  tx = optax.chain(optax.clip_by_global_norm(10.0), optax.adam(schedule))

  def loss(params, x):
    return -flows.log_prob(flow, {**variables, 'params': params}, x).mean()

  @jax.jit
  def block(params, state, first_step):
    def step(carry, t):
      params, state = carry
      x = toy2d.draw(density, jax.random.fold_in(key, t), config.train.batch_size)  # t < 2**31
      value, grads = jax.value_and_grad(loss)(params, x)
      updates, state = tx.update(grads, state, params)
      return (optax.apply_updates(params, updates), state), value
    (params, state), values = jax.lax.scan(
        step, (params, state), first_step + jnp.arange(config.steps_per_block))
    return params, state, values.mean()

  params, state, losses = variables['params'], tx.init(variables['params']), []
  for first in range(0, config.train.num_steps, config.steps_per_block):
    params, state, value = block(params, state, first)
    losses.append(float(value))
    check_finite({f'train/{density}_nll': losses[-1]}, first_step=first + config.steps_per_block)
  return {**variables, 'params': params}, losses


def gaussian_baseline_nll(train_x, test_x) -> float:
  mean = train_x.mean(0)
  cov = np.cov(train_x.T)
  diff = test_x - mean
  _, log_det = np.linalg.slogdet(cov)
  mahalanobis = np.einsum('ni,ij,nj->n', diff, np.linalg.inv(cov), diff)
  return float(np.mean(0.5 * mahalanobis + 0.5 * log_det + math.log(2 * math.pi)))


def run(config, log) -> dict:
  root = jax.random.key(config.seed)
  results = {}
  for d_index, density in enumerate(config.densities):
    test_x, test_log_p = toy2d.sample(density, jax.random.fold_in(root, 10_000 + d_index),
                                      config.test_size)
    train_x = np.asarray(toy2d.draw(density, jax.random.fold_in(root, 20_000 + d_index),
                                    config.test_size), np.float64)
    entropy = float(-test_log_p.mean())
    row = {'entropy': entropy,
           'entropy_se': float(test_log_p.std() / math.sqrt(config.test_size)),
           'gaussian_nll': gaussian_baseline_nll(train_x, np.asarray(test_x, np.float64))}
    for m_index, model in enumerate((config.primary_model, *config.comparison_models)):
      flow = make_flow(model, config)
      key = jax.random.fold_in(root, 100 * d_index + m_index)
      variables, losses = train_flow(flow, density, config, key)
      log_q = flows.log_prob(flow, variables, test_x)
      gaps = np.asarray(test_log_p - log_q, np.float64)
      density_grid = np.exp(np.asarray(flows.log_prob(flow, variables, plot_grid())))
      row[model] = {'nll': float(-log_q.mean()), 'gap': float(gaps.mean()),
                    'gap_se': float(gaps.std() / math.sqrt(len(gaps))), 'train_nll': losses,
                    'density_grid': np.round(density_grid.reshape(GRID, GRID), 4).tolist()}
      log({'step': config.train.num_steps,
           'density': density, 'model': model, 'test/nll': row[model]['nll'],
           'test/gap': row[model]['gap'], 'entropy': entropy,
           'gaussian_nll': row['gaussian_nll']})
    results[density] = row
  return {'densities': results, 'primary_model': config.primary_model,
          'comparison_models': list(config.comparison_models)}


def claims(config, summary) -> list[Claim]:
  rows = summary['densities']
  model = summary['primary_model']
  out = [at_most(f'{model} flow, {name}: test NLL - entropy H(p) = KL(p||q), nats '
                 f'(H = {row["entropy"]:.3f})', row[model]['gap'], config.gap_target, digits=3,
                 kind=FINDING)
         for name, row in rows.items()]
  margins = [row['gaussian_nll'] - row[model]['nll'] for row in rows.values()]
  out.append(Claim(f'{model} flow beats the fitted Gaussian on every density (smallest margin)',
                   '> 0 nats', f'{min(margins):.3f}', bool(min(margins) > 0), kind=FINDING))
  return out


def plot(summary, workdir) -> None:
  """Per density: the true density (a sample histogram where it has no closed
  form), then each flow's on the same grid; and the training curves."""
  workdir = pathlib.Path(workdir)
  rows = summary['densities']
  models = [summary['primary_model'], *summary['comparison_models']]
  extent = (-PLOT_RANGE, PLOT_RANGE, -PLOT_RANGE, PLOT_RANGE)
  fig, axes = plt.subplots(len(rows), 1 + len(models), squeeze=False,
                           figsize=(2.4 * (1 + len(models)), 2.4 * len(rows)))
  for ax_row, (name, row) in zip(axes, rows.items()):
    if name == 'pinwheel':
      samples = np.asarray(toy2d.draw(name, jax.random.key(0), 200_000))
      ax_row[0].hist2d(samples[:, 0], samples[:, 1], bins=GRID, range=[extent[:2]] * 2)
    else:
      density = np.exp(np.asarray(toy2d.log_density(name, plot_grid())))
      ax_row[0].imshow(density.reshape(GRID, GRID), origin='lower', extent=extent)
    ax_row[0].set_title(f'{name}: H = {row["entropy"]:.3f}', fontsize=8)
    for ax, model in zip(ax_row[1:], models):
      ax.imshow(np.asarray(row[model]['density_grid']), origin='lower', extent=extent)
      ax.set_title(f'{model}: KL {row[model]["gap"]:.3f}', fontsize=8)
    for ax in ax_row:
      ax.set_xticks([])
      ax.set_yticks([])
  save_figure(fig, workdir / 'densities.png')

  fig, axes = plt.subplots(1, len(rows), figsize=(3 * len(rows), 2.8), squeeze=False)
  for ax, (name, row) in zip(axes[0], rows.items()):
    for model in models:
      ax.plot(row[model]['train_nll'], label=model)
    ax.axhline(row['entropy'], color='k', ls='--', lw=0.8, label='H(p)')
    ax.set_ylim(row['entropy'] - 0.1, row['entropy'] + 1.0)
    ax.set_title(name, fontsize=9)
    ax.set_xlabel('block of steps')
  axes[0, 0].set_ylabel('train NLL (nats)')
  axes[0, 0].legend(fontsize=7)
  save_figure(fig, workdir / 'training_nll.png')
