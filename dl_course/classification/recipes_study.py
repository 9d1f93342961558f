"""Study: recipes chosen on validation rows, the paper's beside ours (MNIST-1D).

For every model in `config.recipes` (each a full classification config under
`ours` and `paper`, with `data.validation_fraction` > 0) and every seed in
`config.seeds`, the classification trainer runs into runs/<model>_<recipe>_seed<s>.
The held-out rows are a fixed draw (data.hold_out), the same for every run, so
the recipes are compared on the same examples; the test split is only reported.
"""
from __future__ import annotations

import pathlib

import numpy as np

from dl_course.claims import FINDING, Claim
from dl_course.classification import trainer
from dl_course.config import check_range
from dl_course.engine.progress import StopRun
from dl_course.errors import ConfigError
from dl_course.plots import plt, save_figure

RECIPES = ('paper', 'ours')
PUBLISHED = {'logreg': 0.32, 'mlp': 0.68, 'cnn': 0.94, 'gru': 0.91}  # Greydanus & Kobak, table 1


def validate(config) -> None:
  check_range(config, 'max_steps', 0, integer=True)
  check_range(config, 'learning_rate_override', 0)
  if not config.seeds or any(not isinstance(s, int) or s < 0 for s in config.seeds):
    raise ConfigError('seeds', config.seeds, 'a non-empty list of integers >= 0')
  for model, recipes in config.recipes.items():
    if set(recipes) != set(RECIPES):
      raise ConfigError(f'recipes.{model}', sorted(recipes), 'exactly ' + ' and '.join(RECIPES))
    for recipe in RECIPES:
      run_config = _run_config(config, model, recipe, config.seeds[0])
      if not 0 < run_config.data.validation_fraction <= 0.5:
        raise ConfigError(f'recipes.{model}.{recipe}.data.validation_fraction',
                          run_config.data.validation_fraction, 'in (0, 0.5]')
      trainer.validate(run_config)


def _run_config(config, model: str, recipe: str, seed: int):
  run_config = config.recipes[model][recipe].copy_and_resolve_references()
  run_config.seed = seed
  if config.max_steps:
    run_config.train.num_steps = min(run_config.train.num_steps, config.max_steps)
    run_config.train.eval_every = run_config.checkpoint_every = run_config.train.num_steps
    run_config.steps_per_dispatch = min(run_config.steps_per_dispatch,
                                        run_config.train.num_steps)
  if config.learning_rate_override:
    run_config.optimizer.learning_rate = config.learning_rate_override
  return run_config


def run(config, progress) -> dict:
  """Each (model, recipe, seed) is a unit (engine/progress.py) trained in its own
  workdir, runs/<unit>: a rerun keeps finished units and resumes a stopped one
  from its checkpoints."""
  results = {}
  for model in config.recipes:
    results[model] = {}
    for recipe in RECIPES:
      per_seed = []
      for seed in config.seeds:
        name = f'{model}_{recipe}_seed{seed}'
        per_seed.append(progress.unit(name, lambda _, model=model, recipe=recipe, seed=seed,
                                      name=name: _train(config, progress, model, recipe,
                                                        seed, name)))
      results[model][recipe] = {
          split: {'mean': float(np.mean([r[split] for r in per_seed])),
                  'sd': float(np.std([r[split] for r in per_seed], ddof=1))
                  if len(per_seed) > 1 else 0.0,
                  'per_seed': [r[split] for r in per_seed]}
          for split in ('val', 'test')}
  return {'models': results, 'seeds': list(config.seeds)}


def _train(config, progress, model: str, recipe: str, seed: int, name: str) -> dict:
  last = trainer.train_and_evaluate(_run_config(config, model, recipe, seed),
                                    progress.workdir / 'runs' / name)
  if last['stopped_early']:
    raise StopRun(name, last['stopped_by'])
  record = {'val': last['val/accuracy'], 'test': last['test/accuracy']}
  progress.log({'step': last['step'], 'model': model, 'recipe': recipe, 'seed': seed,
                'val/accuracy': record['val'], 'test/accuracy': record['test']})
  return record


def claims(config, summary) -> list[Claim]:
  """Per model: ours scores at least the paper's recipe on the validation rows."""
  out = []
  for model, recipes in summary['models'].items():
    ours, paper = recipes['ours']['val'], recipes['paper']['val']
    out.append(Claim(
        f'MNIST-1D {model}: our recipe vs the paper\'s, validation accuracy (mean of '
        f'{len(summary["seeds"])} seeds; test: ours {100 * recipes["ours"]["test"]["mean"]:.1f} %, '
        f'paper\'s {100 * recipes["paper"]["test"]["mean"]:.1f} %)',
        f'>= paper\'s {100 * paper["mean"]:.1f} %', f'{100 * ours["mean"]:.1f} %',
        bool(ours['mean'] >= paper['mean']), kind=FINDING,
        published=f'{100 * PUBLISHED[model]:.0f} % test, the paper\'s recipe on all 4,000 '
                  '(Greydanus & Kobak 2024, table 1)' if model in PUBLISHED else '-'))
  return out


def table(summary) -> str:
  lines = [f'{"model":<7} {"recipe":<6} {"validation accuracy":>22} {"test accuracy":>18}',
           '-' * 56]
  for model, recipes in summary['models'].items():
    for recipe in RECIPES:
      cells = [f'{100 * recipes[recipe][s]["mean"]:.1f} ± {100 * recipes[recipe][s]["sd"]:.1f} %'
               for s in ('val', 'test')]
      lines.append(f'{model:<7} {recipe:<6} {cells[0]:>22} {cells[1]:>18}')
  lines.append(f'mean ± standard deviation over seeds {summary["seeds"]}; the validation rows '
               'are a fixed 20 % of train, held out of both recipes\' training')
  return '\n'.join(lines)


def plot(summary, workdir: pathlib.Path) -> None:
  models = list(summary['models'])
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
  for ax, split in zip(axes, ('val', 'test')):
    for i, recipe in enumerate(RECIPES):
      means = [100 * summary['models'][m][recipe][split]['mean'] for m in models]
      sds = [100 * summary['models'][m][recipe][split]['sd'] for m in models]
      ax.bar(np.arange(len(models)) + (i - 0.5) * 0.38, means, 0.38, yerr=sds, capsize=3,
             label=recipe)
    ax.set_xticks(range(len(models)), models)
    ax.set_title(f'{"validation" if split == "val" else "test"} accuracy (%)')
    ax.grid(alpha=0.3, axis='y')
  axes[0].legend()
  save_figure(fig, pathlib.Path(workdir) / 'recipes.png')
