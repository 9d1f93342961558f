"""The optimizers written by hand (dl_course.fundamentals.optimizers), first
held to Optax's built-ins, then compared where their differences show:

1. Equality: each hand-written optimizer and its Optax counterpart run 100
   steps on the same random pytree and gradient sequence.
2. An ill-conditioned quadratic f(x) = ½ Σ λᵢ xᵢ², λ from 1 down to 1/κ: gradient
   descent at its best fixed step 2/(λmax + λmin) needs O(κ) steps, Polyak's
   heavy ball with its optimal step and momentum O(√κ) (Polyak 1964).
3. The Rosenbrock valley from (−1.5, 2): trajectories of all seven.
4. An MLP on MNIST-1D, same initial weights and batches for every optimizer:
   training loss and test accuracy per step.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dl_course import data
from dl_course.claims import CHECK, FINDING, Claim, at_least, at_most
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.fundamentals import optimizers
from dl_course.engine.blocks import train_in_blocks
from dl_course.models.mlp import MLP
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('equality_steps', 'quadratic_dim', 'quadratic_max_steps', 'rosenbrock_steps',
              'mnist1d_steps', 'train.batch_size', 'train.eval_every'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'condition_number', 1, low_open=True)
  check_range(config, 'quadratic_tolerance', 0, 1, low_open=True)
  check_number_list(config, 'hidden_sizes', 1, integer=True)
  for section in ('rosenbrock_learning_rates', 'mnist1d_learning_rates'):
    unknown = sorted(set(config[section]) - set(optimizers.OPTIMIZERS))
    if unknown:
      raise ConfigError(f'{section}.{unknown[0]}', config[section][unknown[0]],
                        'a learning rate for one of ' + ', '.join(optimizers.OPTIMIZERS))
    for name in config[section]:
      check_range(config, f'{section}.{name}', 0, low_open=True)


def equality_errors(config) -> dict[str, float]:
  """Max |ours − optax| / max |optax| of the parameters over `equality_steps` steps."""
  key = jax.random.key(config.seed)
  params = {'w': jax.random.normal(key, (7, 5)), 'b': jax.random.normal(jax.random.fold_in(key, 1), (5,)),
            'nested': {'v': jax.random.normal(jax.random.fold_in(key, 2), (3,))}}
  grads = [jax.tree.map(lambda p, i=i: jax.random.normal(jax.random.fold_in(key, 100 + i), p.shape),
                        params) for i in range(config.equality_steps)]
  errors = {}
  for name, (ours, reference) in optimizers.OPTIMIZERS.items():
    trajectories = []
    for tx in (ours(1e-2), reference(1e-2)):
      p, state = params, tx.init(params)
      for g in grads:
        updates, state = tx.update(g, state, p)
        p = optax.apply_updates(p, updates)
      trajectories.append(p)
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in
               zip(jax.tree.leaves(trajectories[0]), jax.tree.leaves(trajectories[1])))
    scale = max(float(jnp.max(jnp.abs(b))) for b in jax.tree.leaves(trajectories[1]))
    errors[name] = diff / scale
  return errors


def run_scan(loss, x0, tx, num_steps: int):
  """Positions and losses along `num_steps` steps of `tx` from x0 ([T + 1, ...], [T + 1])."""
  def step(carry, _):
    x, state = carry
    updates, state = tx.update(jax.grad(loss)(x), state, x)
    x = optax.apply_updates(x, updates)
    return (x, state), (x, loss(x))
  _, (xs, losses) = jax.lax.scan(step, (x0, tx.init(x0)), None, length=num_steps)
  return (jnp.concatenate([x0[None], xs]), jnp.concatenate([loss(x0)[None], losses]))


def quadratic_race(config) -> dict:
  kappa, dim = config.condition_number, config.quadratic_dim
  eigenvalues = jnp.geomspace(1.0, 1.0 / kappa, dim)

  def loss(x):
    return 0.5 * jnp.sum(eigenvalues * x ** 2)

  x0 = 1.0 / jnp.sqrt(eigenvalues)  # every direction starts with the same share of the loss
  high, low = 1.0, 1.0 / kappa
  gd_rate = 2.0 / (high + low)
  hb_rate = 4.0 / (np.sqrt(high) + np.sqrt(low)) ** 2
  hb_momentum = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
  # Heavy ball as x ← x − α v, v ← g + μ v: the velocity form of x_{t+1} = x_t − α g + μ(x_t − x_{t-1}).
  runs = {'gradient descent': optimizers.sgd(gd_rate),
          'heavy ball': optimizers.momentum(hb_rate, hb_momentum)}
  target = config.quadratic_tolerance * float(loss(x0))
  result = {'condition_number': kappa, 'tolerance': config.quadratic_tolerance, 'curves': {},
            'steps_to_tolerance': {}}
  with jax.enable_x64(True):
    for name, tx in runs.items():
      _, losses = jax.jit(lambda x, tx=tx: run_scan(loss, x, tx, config.quadratic_max_steps))(
          x0.astype(jnp.float64))
      losses = np.asarray(losses)
      below = np.nonzero(losses <= target)[0]
      result['steps_to_tolerance'][name] = int(below[0]) if len(below) else None
      result['curves'][name] = (losses / losses[0]).tolist()
  return result


def rosenbrock(xy):
  return (1.0 - xy[0]) ** 2 + 100.0 * (xy[1] - xy[0] ** 2) ** 2


def rosenbrock_paths(config) -> dict:
  x0 = jnp.array([-1.5, 2.0])
  paths = {}
  for name, rate in config.rosenbrock_learning_rates.items():
    xs, losses = jax.jit(lambda x, tx=optimizers.OPTIMIZERS[name][0](rate): run_scan(
        rosenbrock, x, tx, config.rosenbrock_steps))(x0)
    paths[name] = {'learning_rate': rate, 'path': np.asarray(xs).tolist(),
                   'final_loss': float(losses[-1]),
                   'final_distance': float(jnp.linalg.norm(xs[-1] - 1.0))}
  return paths


def mnist1d_curves(config, log) -> dict:
  train, test = data.load('mnist1d', 'train'), data.load('mnist1d', 'test')
  model = MLP(train.info.num_classes, tuple(config.hidden_sizes))
  params0 = model.init(jax.random.key(config.seed), train.x[:1])['params']

  def loss(params, xb, yb):
    logits = model.apply({'params': params}, xb)
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

  def test_accuracy(params):
    return jnp.mean(model.apply({'params': params}, test.x).argmax(-1) == test.y)

  curves = {}
  for name, rate in config.mnist1d_learning_rates.items():
    def record(step, value, accuracy, name=name):
      log({'step': step, 'optimizer': name, 'train/loss': value, 'test/accuracy': accuracy})
    _, losses, accuracies = train_in_blocks(
        loss, test_accuracy, params0, optimizers.OPTIMIZERS[name][0](rate), train.x, train.y,
        seed=config.seed, num_steps=config.mnist1d_steps, batch_size=config.train.batch_size,
        eval_every=config.train.eval_every, log=record)
    curves[name] = {'learning_rate': rate, 'train_loss': losses.tolist(),
                    'test_accuracy': accuracies.tolist()}
  blocks = config.mnist1d_steps // config.train.eval_every
  return {'steps': [(b + 1) * config.train.eval_every for b in range(blocks)], 'curves': curves}


def run(config, log) -> dict:
  check_multiple(config, 'mnist1d_steps', 'train.eval_every')
  return {'equality': equality_errors(config), 'quadratic': quadratic_race(config),
          'rosenbrock': rosenbrock_paths(config), 'mnist1d': mnist1d_curves(config, log)}


def claims(config, summary) -> list[Claim]:
  equality = summary['equality']
  worst = max(equality, key=equality.get)
  race = summary['quadratic']['steps_to_tolerance']
  gd, hb = race['gradient descent'], race['heavy ball']
  speedup = (gd or config.quadratic_max_steps) / max(hb or config.quadratic_max_steps, 1)
  kappa = config.condition_number
  # per-step contraction (κ−1)/(κ+1) for GD, (√κ−1)/(√κ+1) for heavy ball
  rate_ratio = np.log((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) / np.log((kappa - 1) / (kappa + 1))
  curves = summary['mnist1d']['curves']
  return [
      at_most(f'hand-written SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW vs Optax, '
              f'{config.equality_steps} steps: max relative difference ({worst})',
              equality[worst], config.claim.max_optax_difference, digits=1, fmt='e', kind=CHECK),
      at_least(f'quadratic, condition number {config.condition_number:g}: steps to reach '
               f'{config.quadratic_tolerance:g} x the initial loss, gradient descent / heavy ball '
               f'(GD {gd}, heavy ball {hb})', speedup, config.min_heavy_ball_speedup, digits=1,
               unit='x', kind=FINDING,
               published=f'{rate_ratio:.1f}x by the asymptotic rates (Polyak 1964)'),
      Claim(f'MNIST-1D MLP, {config.mnist1d_steps} steps: Adam\'s training loss below SGD\'s',
            '< SGD', f'{curves["adam"]["train_loss"][-1]:.3f} vs '
            f'{curves["sgd"]["train_loss"][-1]:.3f}',
            curves['adam']['train_loss'][-1] < curves['sgd']['train_loss'][-1], kind=FINDING),
      at_least(f'MNIST-1D MLP {list(config.hidden_sizes)}: best test accuracy over the '
               'optimizers', max(c['test_accuracy'][-1] for c in curves.values()),
               config.target_accuracy, unit=' %', scale=100, kind=FINDING,
               published='68 %, Adam, 6,000 steps (Greydanus & Kobak 2024, table 1)'),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
  xs, ys = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
  left.contour(xs, ys, np.log10(rosenbrock(np.stack([xs, ys])) + 1e-3), levels=20,
               cmap='Greys', linewidths=0.6)
  for name, run in summary['rosenbrock'].items():
    path = np.asarray(run['path'])
    left.plot(path[:, 0], path[:, 1], lw=1.2,
              label=f'{name} (η={run["learning_rate"]:g}), end {run["final_loss"]:.1e}')
  left.plot(1, 1, 'k*', ms=12)
  left.set_xlim(-2, 2)
  left.set_ylim(-1, 3)
  left.set_title('Rosenbrock from (−1.5, 2)')
  left.legend(fontsize=7)
  race = summary['quadratic']
  for name, curve in race['curves'].items():
    right.semilogy(curve, label=f'{name}: {race["steps_to_tolerance"][name]} steps')
  reached = [s for s in race['steps_to_tolerance'].values() if s]
  right.set_xlim(0, 1.3 * max(reached) if reached else None)
  right.set_ylim(race['tolerance'] * 1e-3, 10)
  right.axhline(race['tolerance'], color='k', ls='--', lw=1)
  right.set_xlabel('step')
  right.set_ylabel('loss / initial loss')
  right.set_title(f'quadratic, condition number {race["condition_number"]:g}')
  right.legend()
  save_figure(fig, workdir / 'optimizer_paths.png')

  mnist = summary['mnist1d']
  fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
  for name, curve in mnist['curves'].items():
    label = f'{name} (η={curve["learning_rate"]:g})'
    left.semilogy(mnist['steps'], curve['train_loss'], label=label)
    right.plot(mnist['steps'], curve['test_accuracy'], label=label)
  left.set_xlabel('step')
  left.set_ylabel('training loss')
  right.set_xlabel('step')
  right.set_ylabel('test accuracy')
  right.legend(fontsize=8)
  fig.suptitle('MLP on MNIST-1D, same initial weights and batches')
  save_figure(fig, workdir / 'optimizer_mnist1d.png')
