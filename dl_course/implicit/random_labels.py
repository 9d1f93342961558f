"""Study 5: overparameterised networks fit random labels (Zhang, Bengio, Hardt,
Recht & Vinyals 2017).

A fraction p of the training labels is replaced by uniformly random classes
(nested: the examples corrupted at p are among those corrupted at any larger
p). One MLP per p, all from the same initialisation and data order, trained as
one vmapped run until every p fits its labels. Expected: all reach 100 % train
accuracy; test accuracy (true labels) falls toward chance (10 %) as p grows;
the steps needed to fit grow with p.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from dl_course.claims import CHECK, FINDING, Claim, at_most
from dl_course.config import check_multiple, check_number_list, check_range
from dl_course.errors import ConfigError
from dl_course.engine import grid
from dl_course.engine.records import read_metrics
from dl_course.implicit import networks
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('num_train', 'train.batch_size', 'train.max_steps', 'train.eval_every'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_number_list(config, 'fractions', 0, 1)
  check_range(config, 'runs_per_group', 0, integer=True)
  if config.runs_per_group and len(config.fractions) % config.runs_per_group:
    raise ConfigError('runs_per_group', config.runs_per_group,
                      f'0 (one group) or a divisor of the {len(config.fractions)} fractions')
  check_multiple(config, 'train.max_steps', 'train.eval_every')


def corrupt_labels(y: np.ndarray, fractions, num_classes: int, seed: int) -> np.ndarray:
  """[R, N] labels: the first round(p·N) examples of one fixed permutation get
  uniform random classes (which may, by chance, equal the true class)."""
  rng = np.random.default_rng([seed, 5])
  order = rng.permutation(len(y))
  random_classes = rng.integers(0, num_classes, len(y))
  out = np.tile(y, (len(fractions), 1))
  for r, p in enumerate(fractions):
    chosen = order[:int(round(p * len(y)))]
    out[r, chosen] = random_classes[chosen]
  return out


def run(config, progress) -> dict:
  x, y, num_classes = networks.subset(config.data.name, 'train', config.num_train,
                                          config.data.dir)
  x_test, y_test, _ = networks.subset(config.data.name, 'test', 0, config.data.dir)
  labels_RN = corrupt_labels(y, config.fractions, num_classes, config.seed)
  model = networks.build_model(config, num_classes)
  tx = grid.adam_with_rate()
  runs = len(config.fractions)
  keys = jnp.stack([jax.random.key(config.seed)] * runs)  # one initialisation for every p
  group_size = config.runs_per_group or None
  states = grid.init_grid(model, tx, x[:1], keys, [config.optimizer.learning_rate] * runs,
                          group_size)
  chunk = grid.make_grid_chunk(model, tx, group_size=group_size)
  accuracy = grid.make_grid_accuracy(model)
  carry = {'steps_to_fit': [None] * runs}  # and each run's last train and test accuracy

  def evaluate(states, step, metrics):
    losses = np.asarray(metrics['loss'][-1])
    train_accuracy = np.asarray(accuracy(states.params, x, labels_RN))
    test_accuracy = np.asarray(accuracy(states.params, x_test, y_test))
    steps_to_fit = carry['steps_to_fit']
    for r, p in enumerate(config.fractions):
      if steps_to_fit[r] is None and train_accuracy[r] == 1.0:
        steps_to_fit[r] = step
      progress.log({'step': step, 'fraction_random': p,
                    'train/accuracy': float(train_accuracy[r]),
                    'test/accuracy': float(test_accuracy[r]), 'train/loss': float(losses[r])})
    carry.update(train_accuracy=train_accuracy.tolist(), test_accuracy=test_accuracy.tolist())
    return None not in steps_to_fit

  states, step = grid.train_grid(
      chunk, states, x, labels_RN, seed=config.seed, batch_size=config.train.batch_size,
      num_steps=config.train.max_steps, chunk_steps=config.train.eval_every, after_chunk=evaluate,
      checkpoints=progress.checkpoints('grid'), carry=carry)
  return {'fractions': list(config.fractions), 'steps_to_fit': carry['steps_to_fit'],
          'train_accuracy': carry['train_accuracy'], 'test_accuracy': carry['test_accuracy'],
          'steps': step, 'num_train': len(x), 'chance': 1 / num_classes}


stage_model = networks.stage_model  # for load_run


def claims(config, summary) -> list[Claim]:
  fractions, test = summary['fractions'], summary['test_accuracy']
  fitted = [s for s in summary['steps_to_fit'] if s is not None]
  out = [Claim(f'random labels: every p in {fractions} fits 100 % of {summary["num_train"]} '
               'train labels', '100 % each',
               ', '.join(f'{100 * a:.1f}' for a in summary['train_accuracy']) + ' %',
               len(fitted) == len(fractions), kind=FINDING,
               published='every p fits (Zhang et al. 2017, fig. 1a)')]
  rho = stats.spearmanr(fractions, test).statistic
  out.append(at_most('random labels: test accuracy falls as p grows (Spearman ρ)', rho,
                     config.claim.max_spearman, digits=2, kind=FINDING,
                     published='falls with p (Zhang et al. 2017, fig. 1c)'))
  out.append(at_most(f'random labels: test accuracy at p={max(fractions)} is near chance '
                     f'(|acc - {100 * summary["chance"]:.0f} %|)',
                     abs(test[int(np.argmax(fractions))] - summary['chance']),
                     config.claim.max_chance_gap, unit=' pts', scale=100, kind=CHECK,
                     published='chance (Zhang et al. 2017, fig. 1c)'))
  if len(fitted) == len(fractions):
    steps = dict(zip(fractions, summary['steps_to_fit']))
    clean, noisiest = steps[min(fractions)], steps[max(fractions)]
    slower = all(s > clean for p, s in steps.items() if p > min(fractions))
    out.append(Claim(f'random labels: any p > {min(fractions)} takes longer to fit; '
                     f'p={max(fractions)} vs p={min(fractions)} (steps)',
                     f'every p slower, ratio >= {config.claim.min_slowdown:g}',
                     ' / '.join(f'{s}' for s in summary['steps_to_fit'])
                     + f'; ratio {noisiest / clean:.1f}',
                     bool(slower and noisiest >= config.claim.min_slowdown * clean), kind=FINDING,
                     published='slower as p grows (Zhang et al. 2017, fig. 1b)'))
  return out


def plot(summary, workdir: pathlib.Path) -> None:
  records = read_metrics(workdir)
  fig, axes = plt.subplots(1, 3, figsize=(14, 4))
  for p in summary['fractions']:
    rows = [r for r in records if r['fraction_random'] == p]
    axes[0].plot([r['step'] for r in rows], [r['train/loss'] for r in rows], label=f'p={p}')
    axes[1].plot([r['step'] for r in rows], [r['train/accuracy'] for r in rows], label=f'p={p}')
  axes[0].set_yscale('log')
  axes[0].set_title('train loss (on the labels given)')
  axes[1].set_title('train accuracy')
  axes[2].plot(summary['fractions'], summary['test_accuracy'], 'o-', label='test accuracy')
  axes[2].axhline(summary['chance'], ls='--', color='gray', label='chance')
  axes[2].set_xlabel('fraction of random labels p')
  axes[2].set_title('test accuracy at fit')
  for ax in axes[:2]:
    ax.set_xlabel('step')
  for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  save_figure(fig, workdir / 'random_labels.png')
