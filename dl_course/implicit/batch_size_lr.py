"""Study 4: batch size and learning rate (Keskar et al. 2017; Jastrzębski et
al. 2018).

SGD at every (η, B) of a grid for the same number of epochs. Runs with the same
batch size share shapes, so each batch size's learning rates train as one
vmapped function from one initialisation and one data order. At the end:
sharpness λ_max of the full training loss (Lanczos) and test accuracy, against
η/B, the scale of SGD's gradient noise. Expected: higher η/B ends in flatter
regions (lower λ_max), and no run ends sharper than GD's stability limit 2/η.
"""
from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from dl_course.claims import FINDING, Claim, at_most
from dl_course.config import check_number_list, check_range
from dl_course.curvature import FlatHessian, chunk_dataset, dataset_loss
from dl_course.engine import grid
from dl_course.implicit import networks
from dl_course.plots import plt, save_figure


def validate(config) -> None:
  for key in ('num_train', 'train.epochs', 'chunk_size', 'steps_per_dispatch'):
    check_range(config, key, 1, integer=True)
  check_number_list(config, 'learning_rates', 0, low_open=True)
  check_number_list(config, 'batch_sizes', 1, config.num_train, integer=True)


def run(config, progress) -> dict:
  """Each batch size is a unit (engine/progress.py): a rerun continues."""
  x, y, num_classes = networks.subset(config.data.name, 'train', config.num_train,
                                          config.data.dir)
  x_test, y_test, _ = networks.subset(config.data.name, 'test', 0, config.data.dir)
  model = networks.build_model(config, num_classes)
  tx = grid.sgd_with_rate()
  rates = list(config.learning_rates)
  keys = jnp.stack([jax.random.key(config.seed)] * len(rates))
  loss = dataset_loss(networks.per_example_loss(model, config.loss, num_classes),
                      chunk_dataset(x, y, config.chunk_size))
  accuracy = grid.make_grid_accuracy(model)
  hessians = []  # one FlatHessian, moved from run to run (compiled once)

  def train_batch_size(batch_size, checkpoints) -> list[dict]:
    states = grid.init_grid(model, tx, x[:1], keys, rates)
    chunk = grid.make_grid_chunk(model, tx, networks.training_loss(config.loss, num_classes))
    num_steps = config.train.epochs * len(x) // batch_size
    labels_RN = np.tile(y, (len(rates), 1))
    states, _ = grid.train_grid(chunk, states, x, labels_RN, seed=config.seed,
                                batch_size=batch_size, num_steps=num_steps,
                                chunk_steps=config.steps_per_dispatch, checkpoints=checkpoints)
    train_acc = np.asarray(accuracy(states.params, x, y))
    test_acc = np.asarray(accuracy(states.params, x_test, y_test))
    eigenvector, rows = None, []
    for r, rate in enumerate(rates):
      params = jax.tree.map(lambda a, r=r: a[r], states.params)
      hessians[:] = [hessians[0].move_to(params) if hessians else FlatHessian(loss, params)]
      sharpness, eigenvector = networks.sharpness(hessians[0], eigenvector, tol=1e-4)
      rows.append({'learning_rate': rate, 'batch_size': batch_size,
                   'lr_over_batch': rate / batch_size, 'steps': num_steps,
                   'sharpness': sharpness, 'train/loss': float(loss(params)),
                   'train/accuracy': float(train_acc[r]), 'test/accuracy': float(test_acc[r])})
    return rows

  rows = []
  for batch_size in config.batch_sizes:
    batch_rows = progress.unit(f'batch_size_{batch_size}', lambda checkpoints, b=batch_size:
                               train_batch_size(b, checkpoints))
    for row in batch_rows:
      progress.log({'step': row['steps'], **row})
    rows += batch_rows
  ratio = [r['lr_over_batch'] for r in rows]
  return {'rows': rows, 'epochs': config.train.epochs,
          'spearman_lr_over_batch_test_accuracy': float(stats.spearmanr(
              ratio, [r['test/accuracy'] for r in rows]).statistic)}


stage_model = networks.stage_model  # for load_run


def claims(config, summary) -> list[Claim]:
  rows = summary['rows']
  ratio = [r['lr_over_batch'] for r in rows]
  rho_sharp = stats.spearmanr(ratio, [r['sharpness'] for r in rows]).statistic
  worst = max(r['sharpness'] * r['learning_rate'] / 2 for r in rows)
  per_rate = []
  for rate in sorted({r['learning_rate'] for r in rows}):
    sub = [r for r in rows if r['learning_rate'] == rate]
    per_rate.append(stats.spearmanr([r['batch_size'] for r in sub],
                                    [r['sharpness'] for r in sub]).statistic)
  return [
      Claim('batch/lr: at fixed η, larger batches end sharper (Spearman ρ(B, λ_max) per η; '
            'median)', f'>= {config.claim.min_median_spearman_batch:.2f}',
            ', '.join(f'{rho:.2f}' for rho in per_rate) + f'; median {np.median(per_rate):.2f}',
            bool(np.median(per_rate) >= config.claim.min_median_spearman_batch), kind=FINDING,
            published='large batches find sharper minima (Keskar et al. 2017)'),
      at_most(f'batch/lr: final sharpness falls as η/B grows ({len(rows)} runs, Spearman ρ)',
              rho_sharp, config.claim.max_spearman_ratio, digits=2,
              published='sharpness falls as η/B grows (Jastrzębski et al. 2018)', kind=FINDING),
      at_most('batch/lr: no run ends sharper than 2/η (max λ_max·η/2)', worst,
              config.claim.max_sharpness_over_edge, digits=2,
              published='λ_max <= 2/η at the end of GD (Cohen et al. 2021)', kind=FINDING),
  ]


def plot(summary, workdir: pathlib.Path) -> None:
  rows = summary['rows']
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for batch_size in sorted({r['batch_size'] for r in rows}):
    sub = [r for r in rows if r['batch_size'] == batch_size]
    ratio = [r['lr_over_batch'] for r in sub]
    axes[0].loglog(ratio, [r['sharpness'] for r in sub], 'o-', label=f'B={batch_size}')
    axes[1].semilogx(ratio, [100 * r['test/accuracy'] for r in sub], 'o-', label=f'B={batch_size}')
  axes[0].set_title('final sharpness λ_max')
  axes[1].set_title(f'test accuracy (%) after {summary["epochs"]} epochs')
  for ax in axes:
    ax.set_xlabel('η / B')
    ax.grid(alpha=0.3)
    ax.legend()
  save_figure(fig, workdir / 'batch_size_lr.png')
