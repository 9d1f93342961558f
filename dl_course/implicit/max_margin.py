"""Study 2: GD on separable logistic regression converges in direction to the
hard-margin SVM (Soudry, Hoffer, Nacson, Gunasekar & Srebro 2018).

With w0 = 0 and a small enough step, w(t) = ŵ log t + O(1) where ŵ is the
minimum-norm w with every margin y·xᵀw >= 1: the norm grows like ||ŵ|| log t
and the direction error shrinks only like 1/log t. Normalised GD (GD on
log L, i.e. step η∇L/L, Nacson et al. 2019) gets there much sooner; Adam is
shown beside them.

Data: homogeneous 2-D points whose bulk pulls the early iterates away from the
max-margin direction, which only two support points decide.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import optimize

from dl_course.claims import FINDING, Claim, at_least, between
from dl_course.config import check_range
from dl_course.implicit.linear import log_spaced_steps, run_optimizer
from dl_course.plots import plt, save_figure

METHODS = ('gd', 'normalised_gd', 'adam')


def validate(config) -> None:
  for key in ('num_bulk', 'gd_steps', 'normalised_gd_steps', 'adam_steps'):
    check_range(config, key, 1, integer=True)
  for key in ('normalised_gd_learning_rate', 'adam_learning_rate'):
    check_range(config, key, 0, low_open=True)


def separable_data(seed: int, num_bulk: int) -> np.ndarray:
  """z_i = y_i x_i ([n, 2]): a bulk around (1, 4) and two support points."""
  rng = np.random.default_rng([seed, 1])
  bulk = np.array([1.0, 4.0]) + rng.standard_normal((4 * num_bulk, 2)) * np.array([1.5, 0.8])
  bulk = bulk[bulk @ np.array([1.0, 0.5]) > 1.5][:num_bulk]
  return np.vstack([bulk, [[1.0, -0.2], [0.3, 0.8]]])


def hard_margin_svm(z: np.ndarray) -> np.ndarray:
  """argmin ||w||² subject to z_i·w >= 1 (homogeneous), solved as a QP by SLSQP."""
  result = optimize.minimize(
      lambda w: 0.5 * w @ w, np.ones(z.shape[1]), jac=lambda w: w, method='SLSQP',
      constraints=[{'type': 'ineq', 'fun': lambda w: z @ w - 1, 'jac': lambda w: z}],
      options={'ftol': 1e-15, 'maxiter': 1000})
  if not result.success:
    raise RuntimeError(f'hard-margin SVM QP failed: {result.message}')
  return result.x


def logistic_loss(z):
  return lambda w: jnp.mean(jax.nn.softplus(-z @ w))


def log_logistic_loss(z):
  """log L(w), computed without underflow once every margin is large: its
  gradient is ∇L/L, normalised GD's direction."""
  def loss(w):
    margins = z @ w
    log_softplus = jnp.where(margins > 30.0, -margins - 0.5 * jnp.exp(-margins),
                             jnp.log(jax.nn.softplus(-jnp.minimum(margins, 30.0))))
    return jax.scipy.special.logsumexp(log_softplus) - jnp.log(z.shape[0])
  return loss


def run(config, log) -> dict:
  z = separable_data(config.seed, config.num_bulk)
  svm = hard_margin_svm(z)
  direction = svm / np.linalg.norm(svm)
  smoothness = np.linalg.norm(z, 2) ** 2 / (4 * len(z))  # of the mean logistic loss
  setups = {
      'gd': (logistic_loss, optax.sgd(1.0 / smoothness), config.gd_steps),
      'normalised_gd': (log_logistic_loss, optax.sgd(config.normalised_gd_learning_rate),
                        config.normalised_gd_steps),
      'adam': (logistic_loss, optax.adam(config.adam_learning_rate), config.adam_steps),
  }
  summary = {'svm': svm.tolist(), 'svm_norm': float(np.linalg.norm(svm)),
             'num_points': len(z), 'points': z.tolist(), 'gd_learning_rate': 1 / smoothness}
  with jax.enable_x64(True):
    zj, target = jnp.asarray(z), jnp.asarray(direction)
    track = lambda w: jnp.stack([w @ target / jnp.linalg.norm(w), jnp.linalg.norm(w)])
    for method, (make_loss, tx, num_steps) in setups.items():
      w, tracked = run_optimizer(make_loss(zj), np.zeros(2), tx, num_steps, track)
      steps = log_spaced_steps(num_steps, 80)
      cosine, norm = tracked[steps - 1, 0], tracked[steps - 1, 1]
      for step, c, n in zip(steps, cosine, norm):
        log({'method': method, 'step': int(step), 'cosine_to_svm': float(c), 'norm': float(n)})
      reached = np.flatnonzero(tracked[:, 0] >= 0.99)
      summary[method] = {
          'steps': num_steps, 'final_cosine': float(tracked[-1, 0]), 'w': w.tolist(),
          'steps_to_cosine_0.99': int(reached[0] + 1) if reached.size else None,
          'curve': {'step': steps.tolist(), 'cosine': cosine.tolist(), 'norm': norm.tolist()}}
  # ||w(t)|| ≈ ||ŵ|| ln t + c: the slope over the last two decades of GD.
  curve = summary['gd']['curve']
  late = np.array(curve['step']) >= config.gd_steps / 100
  slope = np.polyfit(np.log(np.array(curve['step'])[late]), np.array(curve['norm'])[late], 1)[0]
  summary['gd']['norm_slope_per_log_step'] = float(slope)
  return summary


def claims(config, summary) -> list[Claim]:
  gd, ngd = summary['gd'], summary['normalised_gd']
  ratio = summary['gd']['norm_slope_per_log_step'] / summary['svm_norm']
  gd_steps = gd['steps_to_cosine_0.99'] or float('inf')
  ngd_steps = ngd['steps_to_cosine_0.99'] or float('inf')
  return [
      at_least(f'max-margin: GD direction vs hard-margin SVM after {gd["steps"]:,} steps (cosine)',
               gd['final_cosine'], config.claim.min_cosine, digits=4, kind=FINDING,
               published='-> 1 as t grows, at rate 1/ln t (Soudry et al. 2018)'),
      between('max-margin: GD ||w(t)|| grows like ||w_svm|| ln t (slope / ||w_svm||)',
              ratio, *config.claim.norm_slope_ratio, kind=FINDING,
              published='-> 1 (Soudry et al. 2018)'),
      Claim('max-margin: normalised GD reaches cosine 0.99 sooner than GD (steps)',
            'fewer than GD', f'{ngd_steps:,} vs {gd_steps:,}',
            bool(ngd_steps < gd_steps), kind=FINDING,
            published='faster convergence in direction (Nacson et al. 2019)'),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(1, 3, figsize=(14, 4))
  z = np.array(summary['points'])
  axes[0].scatter(z[:, 0], z[:, 1], s=10, c='tab:blue', label='y·x')
  for method, color in zip(METHODS, ('tab:red', 'tab:green', 'tab:purple')):
    w = np.array(summary[method]['w'])
    axes[0].plot([0, 4 * w[0] / np.linalg.norm(w)], [0, 4 * w[1] / np.linalg.norm(w)],
                 color=color, label=method.replace('_', ' '))
  svm = np.array(summary['svm']) / summary['svm_norm']
  axes[0].plot([0, 4 * svm[0]], [0, 4 * svm[1]], 'k--', label='SVM')
  axes[0].set_aspect('equal')
  axes[0].legend(fontsize=8)
  axes[0].set_title('data (y·x) and final directions')
  for method in METHODS:
    curve = summary[method]['curve']
    axes[1].semilogx(curve['step'], 1 - np.array(curve['cosine']), label=method)
    axes[2].semilogx(curve['step'], curve['norm'], label=method)
  axes[1].set_yscale('log')
  axes[1].set_title('1 - cos(w, w_svm)')
  axes[2].set_yscale('log')
  axes[2].set_title('||w(t)|| (GD: slope ||w_svm|| per e-fold)')
  for ax in axes[1:]:
    ax.set_xlabel('step')
    ax.grid(alpha=0.3)
    ax.legend()
  save_figure(fig, workdir / 'max_margin.png')
