"""Study 7: implicit gradient regularisation (Barrett & Dherin 2021).

GD with step η tracks the gradient flow of the modified loss
L̃ = L + (η/4)||∇L||² with error O(η²), and the flow of L only with error O(η)
(backward error analysis). We run GD for time τ (τ/η steps), integrate both
flows to the same time with RK4 at step η/substeps, and measure
||θ_GD - θ_flow|| along the path, for several η: the error slopes in log η are
the orders, and at each η the modified flow is much closer.

Model: a tanh MLP on two moons, cross-entropy, float64 (the O(η²) errors are
small). ∇L̃ = ∇L + (η/2) H∇L uses the curvature toolkit's HVP.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from dl_course import data
from dl_course.claims import CHECK, Claim, at_most, between
from dl_course.config import check_number_list, check_range
from dl_course.curvature import hvp
from dl_course.errors import ConfigError
from dl_course.models import MLP
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  check_range(config, 'num_examples', 2, integer=True)
  check_range(config, 'substeps', 1, integer=True)
  check_range(config, 'flow_time', 0, low_open=True)
  check_number_list(config, 'learning_rates', 0, low_open=True)
  check_number_list(config, 'hidden_sizes', 1, integer=True)
  if len(config.learning_rates) < 2:
    raise ConfigError('learning_rates', tuple(config.learning_rates),
                      'at least two rates (the error order is a slope across them)')
  for rate in config.learning_rates:
    if round(config.flow_time / rate) < 2:
      raise ConfigError('learning_rates', tuple(config.learning_rates),
                        f'rates of at most flow_time / 2 ({config.flow_time / 2:g}), so '
                        f'each runs at least two steps; {rate:g} runs '
                        f'{round(config.flow_time / rate)}')


def flat_problem(config):
  """(loss of flat params, initial flat params), in float64."""
  train = data.load('moons', 'train')
  x = jnp.asarray(train.x[:config.num_examples], jnp.float64)
  y = jnp.asarray(train.y[:config.num_examples])
  model = MLP(num_classes=2, hidden_sizes=tuple(config.hidden_sizes), activation='tanh')
  params = model.init(jax.random.key(config.seed), x[:1])['params']
  flat, unravel = ravel_pytree(jax.tree.map(lambda a: a.astype(jnp.float64), params))

  def loss(theta):
    logits = model.apply({'params': unravel(theta)}, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
  return loss, flat


def trajectories(loss, theta0, learning_rate: float, num_steps: int, substeps: int):
  """GD iterates and the two flows sampled at the same times ([num_steps + 1, P] each)."""
  grad = jax.grad(loss)
  modified_grad = lambda th: grad(th) + 0.5 * learning_rate * hvp(loss, th, grad(th))
  h = learning_rate / substeps

  def rk4(field):
    def one(theta, _):
      k1 = field(theta)
      k2 = field(theta - 0.5 * h * k1)
      k3 = field(theta - 0.5 * h * k2)
      k4 = field(theta - h * k3)
      return theta - h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

    def interval(theta, _):  # one GD step's worth of time
      theta, _ = jax.lax.scan(one, theta, None, length=substeps)
      return theta, theta
    return interval

  def gd(theta, _):
    theta = theta - learning_rate * grad(theta)
    return theta, theta

  @jax.jit
  def all_paths(theta0):
    paths = [jax.lax.scan(f, theta0, None, length=num_steps)[1]
             for f in (gd, rk4(grad), rk4(modified_grad))]
    return [jnp.concatenate([theta0[None], p]) for p in paths]

  return all_paths(theta0)


def run(config, log) -> dict:
  rows = []
  with jax.enable_x64(True):
    loss, theta0 = flat_problem(config)
    batched_loss = jax.jit(jax.vmap(loss))
    for learning_rate in config.learning_rates:
      num_steps = int(round(config.flow_time / learning_rate))
      gd, flow, modified = trajectories(loss, theta0, learning_rate, num_steps, config.substeps)
      error_flow = np.asarray(jnp.linalg.norm(gd - flow, axis=1))
      error_modified = np.asarray(jnp.linalg.norm(gd - modified, axis=1))
      losses = [np.asarray(batched_loss(p)) for p in (gd, flow, modified)]
      for step in range(0, num_steps + 1, max(1, num_steps // 50)):
        log({'learning_rate': learning_rate, 'step': step, 'time': step * learning_rate,
             'error_to_flow_of_L': float(error_flow[step]),
             'error_to_flow_of_modified_L': float(error_modified[step]),
             'loss_gd': float(losses[0][step]), 'loss_flow': float(losses[1][step]),
             'loss_modified_flow': float(losses[2][step])})
      rows.append({'learning_rate': learning_rate, 'steps': num_steps,
                   'max_error_flow': float(error_flow.max()),
                   'max_error_modified': float(error_modified.max()),
                   'path_length': float(np.linalg.norm(gd[-1] - gd[0])),
                   'time': (np.arange(num_steps + 1) * learning_rate).tolist(),
                   'error_flow': error_flow.tolist(), 'error_modified': error_modified.tolist(),
                   'loss_gd': losses[0].tolist(), 'loss_modified_flow': losses[2].tolist(),
                   'loss_flow': losses[1].tolist()})
  log_lr = np.log([r['learning_rate'] for r in rows])
  return {'rows': rows,
          'order_flow': error_order(log_lr, [r['max_error_flow'] for r in rows]),
          'order_modified': error_order(log_lr, [r['max_error_modified'] for r in rows])}


def error_order(log_learning_rates, errors) -> float:
  """The slope of log(error) against log(η): the order of the approximation."""
  return float(np.polyfit(log_learning_rates, np.log(errors), 1)[0])


def claims(config, summary) -> list[Claim]:
  ratio = max(r['max_error_modified'] / r['max_error_flow'] for r in summary['rows'])
  return [
      at_most('IGR: GD closer to the flow of L+(η/4)||∇L||² than of L at every η '
              '(worst error ratio)', ratio, config.claim.max_error_ratio, digits=3,
              kind=CHECK, published='closer: O(η²) vs O(η) (Barrett & Dherin 2021)'),
      between('IGR: GD vs flow of L, error order in η', summary['order_flow'],
              *config.claim.order_flow, kind=CHECK, published='1 (Barrett & Dherin 2021)'),
      between('IGR: GD vs flow of modified loss, error order in η', summary['order_modified'],
              *config.claim.order_modified, kind=CHECK, published='2 (Barrett & Dherin 2021)'),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, axes = plt.subplots(1, 3, figsize=(14, 4))
  for r in summary['rows']:
    line, = axes[0].semilogy(r['time'][1:], r['error_flow'][1:],
                             label=f'η={r["learning_rate"]}: L')
    axes[0].semilogy(r['time'][1:], r['error_modified'][1:], '--', color=line.get_color(),
                     label=f'η={r["learning_rate"]}: L̃')
  axes[0].set_xlabel('time t = step·η')
  axes[0].set_title('||θ_GD - θ_flow(t)||')
  axes[0].legend(fontsize=7)
  lrs = [r['learning_rate'] for r in summary['rows']]
  axes[1].loglog(lrs, [r['max_error_flow'] for r in summary['rows']], 'o-',
                 label=f'flow of L (order {summary["order_flow"]:.2f})')
  axes[1].loglog(lrs, [r['max_error_modified'] for r in summary['rows']], 's-',
                 label=f'flow of L̃ (order {summary["order_modified"]:.2f})')
  axes[1].set_xlabel('η')
  axes[1].set_title('max error along the path')
  axes[1].legend()
  main = summary['rows'][-1]
  for key, label in (('loss_gd', 'GD'), ('loss_flow', 'flow of L'),
                     ('loss_modified_flow', 'flow of L̃')):
    axes[2].plot(main['time'], main[key], label=label)
  axes[2].set_title(f'training loss, η={main["learning_rate"]}')
  axes[2].set_xlabel('time')
  axes[2].legend()
  for ax in axes:
    ax.grid(alpha=0.3)
  save_figure(fig, workdir / 'gradient_regularisation.png')
