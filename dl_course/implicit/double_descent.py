"""Study 6: model-wise double descent (Nakkiran et al. 2020), in MNIST-1D's
replication (Greydanus & Kobak 2024): MLP 40-h-h-10, 15 % of the training
labels replaced by random classes, SGD lr 0.01 momentum 0.9, batch 100, 500
epochs, widths h geometric from 2 to 300.

Test error peaks where the network first fits the noisy training set (the
interpolation threshold, train error -> 0; published ≈ 54 % near h ≈ 47), then
falls again as h grows. Seeds differ in initialisation and train as one vmapped
function per width; every width's result is logged as soon as it finishes.
Test error is also recorded per epoch (epoch-wise double descent shows as a
second fall of a width's test-error curve).
"""
from __future__ import annotations

import pathlib

import jax
import numpy as np

from dl_course.claims import FINDING, Claim, at_least, between
from dl_course.config import check_multiple, check_range
from dl_course.errors import ConfigError
from dl_course.engine import grid
from dl_course.implicit import networks
from dl_course.models import MLP
from dl_course.plots import plt, save_figure

INTERPOLATION_ERROR = 0.01  # train error at or below this counts as fitted


def validate(config) -> None:
  for key in ('num_train', 'train.epochs', 'train.batch_size', 'num_seeds',
              'train.eval_every_epochs', 'min_width', 'max_width', 'num_widths'):
    check_range(config, key, 1, integer=True)
  check_range(config, 'label_noise', 0, 1)
  check_range(config, 'optimizer.learning_rate', 0, low_open=True)
  check_range(config, 'momentum', 0, 1)
  if config.max_width <= config.min_width:
    raise ConfigError('max_width', config.max_width, f'> min_width={config.min_width}')
  check_multiple(config, 'train.epochs', 'train.eval_every_epochs')


def widths(config) -> list[int]:
  return np.unique(np.geomspace(config.min_width, config.max_width, config.num_widths
                                ).astype(int)).tolist()


def noisy_labels(y: np.ndarray, fraction: float, num_classes: int, seed: int) -> np.ndarray:
  """Each label replaced, with probability `fraction`, by a uniform random class."""
  rng = np.random.default_rng([seed, 6])
  replace = rng.random(len(y)) < fraction
  return np.where(replace, rng.integers(0, num_classes, len(y)), y)


def train_width(config, width, x, y_noisy, x_test, y_test, num_classes, checkpoints=None) -> dict:
  model = MLP(num_classes=num_classes, hidden_sizes=(width, width))
  tx = grid.sgd_with_rate(config.momentum)
  keys = jax.random.split(jax.random.key(config.seed), config.num_seeds)
  states = grid.init_grid(model, tx, x[:1], keys,
                          [config.optimizer.learning_rate] * config.num_seeds)
  chunk = grid.make_grid_chunk(model, tx)
  accuracy = grid.make_grid_accuracy(model)
  steps_per_epoch = len(x) // config.train.batch_size
  chunk_steps = steps_per_epoch * config.train.eval_every_epochs
  labels_RN = np.tile(y_noisy, (config.num_seeds, 1))
  curves = {'test_error': []}

  def record_test_error(states, step, metrics):
    del step, metrics
    curves['test_error'].append((1 - np.asarray(accuracy(states.params, x_test, y_test))).tolist())

  states, _ = grid.train_grid(
      chunk, states, x, labels_RN, seed=config.seed, batch_size=config.train.batch_size,
      num_steps=config.train.epochs * steps_per_epoch, chunk_steps=chunk_steps,
      after_chunk=record_test_error, checkpoints=checkpoints, carry=curves)
  train_error = 1 - np.asarray(accuracy(states.params, x, y_noisy))
  test_error = 1 - np.asarray(accuracy(states.params, x_test, y_test))
  return {'width': width,
          'num_params': int(sum(a[0].size for a in jax.tree.leaves(states.params))),
          'train_error': train_error.tolist(), 'test_error': test_error.tolist(),
          'mean_train_error': float(train_error.mean()),
          'mean_test_error': float(test_error.mean()),
          'test_error_by_epoch': np.mean(curves['test_error'], axis=1).tolist()}


def run(config, progress) -> dict:
  """Each width is a unit: a rerun in the workdir skips finished widths and
  continues the unfinished one from its last checkpoint."""
  x, y, num_classes = networks.subset(config.data.name, 'train', config.num_train,
                                          config.data.dir)
  x_test, y_test, _ = networks.subset(config.data.name, 'test', 0, config.data.dir)
  y_noisy = noisy_labels(y, config.label_noise, num_classes, config.seed)
  rows = []
  for width in widths(config):
    row = progress.unit(f'width_{width}', lambda checkpoints, width=width: train_width(
        config, width, x, y_noisy, x_test, y_test, num_classes, checkpoints))
    progress.log({'step': config.train.epochs * (len(x) // config.train.batch_size),
         **{k: v for k, v in row.items() if k != 'test_error_by_epoch'}})
    rows.append(row)
  return {'rows': rows, **curve_landmarks(rows),
          'early_stopped_test_error': {r['width']: min(r['test_error_by_epoch']) for r in rows},
          'epochwise_second_descent': {r['width']: epochwise_second_descent(
              r['test_error_by_epoch']) for r in rows},
          'widest_test_error': rows[-1]['mean_test_error'],
          'fraction_labels_changed': float(np.mean(y_noisy != y)),
          'epochs': config.train.epochs, 'eval_every_epochs': config.train.eval_every_epochs,
          'num_train': len(x), 'num_test': len(x_test)}


def stage_model(config, stage: str):
  """The MLP a width's stage (width_<h>) trains, for load_run."""
  _, _, num_classes = networks.subset(config.data.name, 'test', 1, config.data.dir)
  width = int(stage.removeprefix('width_'))
  return MLP(num_classes=num_classes, hidden_sizes=(width, width))


def epochwise_second_descent(curve) -> float:
  """The size of an epoch-wise double descent in a test-error-by-epoch curve:
  the largest bump, measured as the smaller of its rise from an earlier epoch
  and its fall to a later one (0 for a curve that never rises and falls again)."""
  curve = np.asarray(curve, np.float64)
  rise = curve - np.minimum.accumulate(curve)
  fall = curve - np.minimum.accumulate(curve[::-1])[::-1]
  return float(np.max(np.minimum(rise, fall)))


def curve_landmarks(rows) -> dict:
  """The classical minimum (lowest test error among widths that do not fit the
  training set), the peak (highest test error after it) and the interpolation
  threshold (first width that fits it)."""
  test = np.array([r['mean_test_error'] for r in rows])
  fits = np.array([r['mean_train_error'] <= INTERPOLATION_ERROR for r in rows])
  first_fit = int(np.argmax(fits)) if fits.any() else len(rows)
  classical = int(np.argmin(test[:first_fit])) if first_fit > 0 else 0
  peak = classical + int(np.argmax(test[classical:]))
  return {'classical_width': rows[classical]['width'],
          'classical_test_error': float(test[classical]),
          'peak_width': rows[peak]['width'], 'peak_test_error': float(test[peak]),
          'interpolation_width': rows[first_fit]['width'] if fits.any() else None}


def claims(config, summary) -> list[Claim]:
  published = 'a peak at the interpolation threshold (Nakkiran et al. 2020; Greydanus & Kobak 2024)'
  peak, interp = summary['peak_width'], summary['interpolation_width']
  low, high = config.claim.peak_over_threshold
  out = [at_least('double descent: test error rises from the classical minimum to the peak '
                  '(points)', summary['peak_test_error'] - summary['classical_test_error'],
                  config.claim.min_rise, unit=' pts', scale=100, published=published,
                  kind=FINDING),
         Claim('double descent: test error peaks at the interpolation threshold '
               '(peak width / first width with train error <= 1 %)', f'in [{low:g}, {high:g}]',
               f'{peak} / {interp}' + (f' = {peak / interp:.2f}' if interp else ''),
               bool(interp and low <= peak / interp <= high), kind=FINDING, published=published),
         at_least('double descent: test error falls again past the peak (peak - widest, points)',
                  summary['peak_test_error'] - summary['widest_test_error'],
                  config.claim.min_fall, unit=' pts', scale=100, published=published,
                  kind=FINDING)]
  if ('published_peak' in config.claim and summary['num_train'] == 4000
      and config.data.name == 'mnist1d_16k' and config.train.epochs >= 500):
    out.append(between('double descent: peak test error', 100 * summary['peak_test_error'],
                       *config.claim.published_peak, unit=' %', digits=1, kind=FINDING,
                       published='≈ 54 % (Greydanus & Kobak 2024)'))
  return out


def plot(summary, workdir: pathlib.Path) -> None:
  rows = summary['rows']
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  w = [r['width'] for r in rows]
  axes[0].plot(w, [100 * r['mean_test_error'] for r in rows], 'o-', label='test')
  axes[0].plot(w, [100 * r['mean_train_error'] for r in rows], 's--', label='train (noisy labels)')
  if summary['interpolation_width']:
    axes[0].axvline(summary['interpolation_width'], color='gray', ls=':',
                    label='interpolation threshold')
  axes[0].set_xscale('log')
  axes[0].set_xlabel('hidden width h')
  axes[0].set_ylabel('error (%)')
  axes[0].set_title('model-wise double descent')
  epochs = (np.arange(len(rows[0]['test_error_by_epoch'])) + 1) * summary['eval_every_epochs']
  cmap = plt.get_cmap('viridis')
  for i, r in enumerate(rows):
    axes[1].plot(epochs, 100 * np.array(r['test_error_by_epoch']), color=cmap(i / len(rows)),
                 label=f'h={r["width"]}' if i % max(1, len(rows) // 6) == 0 else None)
  axes[1].set_xscale('log')
  axes[1].set_xlabel('epoch')
  axes[1].set_title('test error (%) by epoch (epoch-wise)')
  for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
  save_figure(fig, workdir / 'double_descent.png')
