"""Study: the standard UCI regression benchmark, nine datasets on their published
splits, MC dropout (Gal's 2018 grid-search protocol) and deep ensembles beside
both published tables. See uci.py for the protocol, data/uci_benchmark.py for
the data.

Each published row keeps its own spread: Gal's 2018 rerun reports standard
errors over splits, the deep-ensembles paper standard deviations. Ours prints
both. A method's claim: on at least `claim.min_datasets` of the datasets run,
its test log-likelihood is at least the published one minus `claim.margin_se`
published standard errors (for ensembles, its s.d. / sqrt(splits)).
"""
from __future__ import annotations

import math
import pathlib

import numpy as np

from dl_course.claims import FINDING, Claim
from dl_course.config import check_number_list, check_range
from dl_course.data import uci_benchmark
from dl_course.errors import ConfigError
from dl_course.plots import plt, save_figure
from dl_course.uncertainty import uci

METHODS = ('mc_dropout', 'deep_ensembles')
SOURCES = {'mc_dropout': 'Gal 2018 grid search (DropoutUncertaintyExps readme), ± s.e.',
           'deep_ensembles': 'Lakshminarayanan et al. 2017, table 1, ± s.d.'}
# dataset: (RMSE, its ±), (test LL, its ±); MC dropout ± are standard errors over
# splits, deep ensembles' standard deviations (their NLL negated). None: not given.
PUBLISHED = {
    'mc_dropout': {
        'boston': ((2.90, 0.18), (-2.40, 0.04)), 'concrete': ((4.82, 0.16), (-2.93, 0.02)),
        'energy': ((0.54, 0.06), (-1.21, 0.01)), 'kin8nm': ((0.08, 0.00), (1.14, 0.01)),
        'naval': ((0.00, 0.00), (4.45, 0.00)), 'power': ((4.01, 0.04), (-2.80, 0.01)),
        'protein': ((4.27, 0.02), (-2.87, 0.00)), 'wine': ((0.62, 0.01), (-0.93, 0.01)),
        'yacht': ((0.67, 0.05), (-1.25, 0.01))},
    'deep_ensembles': {
        'boston': ((3.28, 1.00), (-2.41, 0.25)), 'concrete': ((6.03, 0.58), (-3.06, 0.18)),
        'energy': ((2.09, 0.29), (-1.38, 0.22)), 'kin8nm': ((0.09, None), (1.20, None)),
        'naval': ((0.00, None), (5.63, None)), 'power': ((4.11, 0.17), (-2.79, 0.04)),
        'protein': ((4.71, 0.06), (-2.83, 0.02)), 'wine': ((0.64, 0.04), (-0.94, 0.12)),
        'yacht': ((1.58, 0.48), (-1.18, 0.21))},
}
SPREAD = {'mc_dropout': 'se', 'deep_ensembles': 'sd'}


def validate(config) -> None:
  for key in ('train.batch_size', 'epochs_multiplier', 'validation_samples', 'test_samples',
              'ensemble_size', 'ensemble_batch_size'):
    check_range(config, key, 1, integer=True)
  check_number_list(config, 'ensemble_epochs', 1, integer=True)
  if config.ensemble_cosine_epochs:
    check_number_list(config, 'ensemble_cosine_epochs', 1, integer=True)
  check_range(config, 'num_splits', 0, integer=True)
  if config.num_splits == 1:
    raise ConfigError('num_splits', 1, '0 (every published split) or at least 2')
  for key in ('optimizer.learning_rate', 'ensemble_learning_rate'):
    check_range(config, key, 0, low_open=True)
  check_range(config, 'adversarial_epsilon', 0)
  if not config.methods or any(m not in METHODS for m in config.methods):
    raise ConfigError('methods', config.methods, 'one or both of ' + ', '.join(METHODS))
  if not config.datasets:
    raise ConfigError('datasets', config.datasets, 'one or more of ' + ', '.join(uci_benchmark.DATASETS))
  for name in config.datasets:
    if name not in uci_benchmark.DATASETS:
      raise ConfigError('datasets', config.datasets,
                        'names from: ' + ', '.join(uci_benchmark.DATASETS))
  # A bound above the number of datasets would make every claim fail; clamping it
  # instead would make the bound decide nothing.
  check_range(config, 'claim.min_datasets', 1, integer=True)
  if config.claim.min_datasets > len(config.datasets):
    raise ConfigError('claim.min_datasets', config.claim.min_datasets,
                      f'at most the {len(config.datasets)} of config.datasets')


def run(config, progress) -> dict:
  """Each (dataset, method) is a unit (engine/progress.py): a rerun continues."""
  summary = {}
  for name in config.datasets:
    data = uci_benchmark.load(name)
    train_idx, test_idx = uci.stacked_splits(data.splits, config.num_splits)
    methods = {
        'mc_dropout': lambda: uci.mc_dropout(
            data.x, data.y, train_idx, test_idx, dropout_rates=data.dropout_rates,
            taus=data.taus, hidden=data.hidden, epochs=data.epochs * config.epochs_multiplier,
            batch_size=config.train.batch_size, learning_rate=config.optimizer.learning_rate,
            validation_samples=config.validation_samples, test_samples=config.test_samples,
            seed=config.seed, label=f'{name}: MC dropout'),
        'deep_ensembles': lambda: uci.deep_ensembles(
            data.x, data.y, train_idx, test_idx, members=config.ensemble_size,
            hidden=data.hidden, epochs_grid=config.ensemble_epochs,
            batch_size=config.ensemble_batch_size, learning_rate=config.ensemble_learning_rate,
            adversarial_epsilon=config.adversarial_epsilon, seed=config.seed,
            cosine_epochs=tuple(config.ensemble_cosine_epochs),
            label=f'{name}: deep ensembles')}
    results = {method: progress.unit(f'{name}_{method}', lambda _, fit=fit: _plain(fit()))
               for method, fit in methods.items() if method in config.methods}
    for method, result in results.items():
      for split in range(len(train_idx)):
        progress.log({'dataset': name, 'method': method, 'split': split, 'step': split,
                      'test/rmse': float(result['rmse'][split]),
                      'test/ll': float(result['ll'][split])})
    summary[name] = {
        method: {'rmse': uci.mean_and_spread(r['rmse']), 'll': uci.mean_and_spread(r['ll']),
                 'rmse_per_split': r['rmse'], 'll_per_split': r['ll'],
                 **{key: r[key] for key in ('chosen_p_tau', 'chosen_epochs', 'chosen_cosine')
                    if key in r}}
        for method, r in results.items()}
    summary[name]['num_examples'] = len(data.y)
    summary[name]['num_splits'] = len(train_idx)
  return summary


def _plain(result: dict) -> dict:
  """A method's result as JSON: per-split lists, chosen (p, τ) pairs as lists."""
  plain = {'rmse': np.asarray(result['rmse']).tolist(), 'll': np.asarray(result['ll']).tolist()}
  if 'chosen' in result:
    plain['chosen_p_tau'] = [[float(v) for v in pair] for pair in result['chosen']]
  for key in ('chosen_epochs', 'chosen_cosine'):
    if key in result:
      plain[key] = list(result[key])
  return plain


def published_ll_target(method: str, name: str, splits: int, margin_se: float) -> float:
  """The published test LL minus `margin_se` of its standard errors (ensembles:
  s.d. / sqrt(splits), the s.e. of their mean; a ± not given counts as 0)."""
  mean, spread = PUBLISHED[method][name][1]
  spread = spread or 0.0
  se = spread if SPREAD[method] == 'se' else spread / math.sqrt(splits)
  return mean - margin_se * se


def claims(config, summary) -> list[Claim]:
  c = config.claim
  names = [n for n in config.datasets if n in summary]
  out = []
  for method in _run_methods(summary):
    rows = []
    for name in names:
      splits = summary[name]['num_splits']
      target = published_ll_target(method, name, splits, c.margin_se)
      rows.append((name, summary[name][method]['ll']['mean'], target))
    met = [name for name, ours, target in rows if ours >= target]
    out.append(Claim(
        f'UCI, {method.replace("_", " ")}: datasets whose test LL is at least the published '
        f'minus {c.margin_se:g} published s.e. ({", ".join(names)})',
        f'>= {c.min_datasets} of {len(rows)}', f'{len(met)} of {len(rows)}'
        + (f' (short: {", ".join(n for n, _, _ in rows if n not in met)})'
           if len(met) < len(rows) else ''),
        len(met) >= c.min_datasets, kind=FINDING, published=SOURCES[method]))
  return out


def _run_methods(summary) -> list[str]:
  """The methods the summary holds (config.methods), in METHODS' order."""
  first = next(iter(summary.values()), {})
  return [m for m in METHODS if m in first]


def _cell(values: dict) -> str:
  return f'{values["mean"]:.2f} ± {values["se"]:.2f} s.e. / {values["sd"]:.2f} s.d.'


def _published_cell(method: str, pair) -> str:
  mean, spread = pair
  return f'{mean:.2f}' + (f' ± {spread:.2f} {"s.e." if SPREAD[method] == "se" else "s.d."}'
                          if spread is not None else '')


def table(summary) -> str:
  """Per dataset and method, ours (mean ± s.e. and s.d. over splits) beside the
  published row with its own kind of ±."""
  header = (f'{"dataset":<9} {"method":<15} {"splits":>6} {"RMSE (ours)":>30} '
            f'{"RMSE (published)":>17} {"test LL (ours)":>31} {"test LL (published)":>20}')
  lines = [header, '-' * len(header)]
  for name, results in summary.items():
    for method in _run_methods(summary):
      rmse, ll = PUBLISHED[method][name]
      lines.append(f'{name:<9} {method.replace("_", " "):<15} {results["num_splits"]:>6} '
                   f'{_cell(results[method]["rmse"]):>30} {_published_cell(method, rmse):>17} '
                   f'{_cell(results[method]["ll"]):>31} {_published_cell(method, ll):>20}')
  lines.append('published: MC dropout ' + SOURCES['mc_dropout'] + '; deep ensembles '
               + SOURCES['deep_ensembles'])
  return '\n'.join(lines)


def plot(summary, workdir: pathlib.Path) -> None:
  """Test log-likelihood per split, one panel per dataset, with each method's
  mean ± s.e. and the published mean as a dotted line."""
  names = list(summary)
  columns = min(3, len(names))
  rows = math.ceil(len(names) / columns)
  fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.4 * rows), squeeze=False)
  for ax, name in zip(axes.flat, names):
    for i, method in enumerate(_run_methods(summary)):
      values = summary[name][method]['ll_per_split']
      ax.scatter(np.full(len(values), i), values, s=10, alpha=0.5, color=f'C{i}')
      ours = summary[name][method]['ll']
      ax.errorbar([i + 0.15], [ours['mean']], [ours['se']], fmt='o', color='black', capsize=3)
      ax.hlines(PUBLISHED[method][name][1][0], i - 0.3, i + 0.3, colors=f'C{i}', linestyles=':')
    ax.set_xticks(range(len(_run_methods(summary))),
                  [m.replace('_', ' ') for m in _run_methods(summary)])
    ax.set_title(f'{name}: test log-likelihood per split')
    ax.grid(alpha=0.3)
  for ax in list(axes.flat)[len(names):]:
    ax.axis('off')
  save_figure(fig, workdir / 'uci_regression.png')
