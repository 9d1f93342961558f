"""Tables and plots over a sweep's runs (launch.sweep).

  python -m launch.aggregate SWEEP_DIR [--metric=val/accuracy] [--mode=max]

For every point of the sweep, the mean over its seeds and the standard error
(sample standard deviation / sqrt(seeds)) of each metric of the runs' last
records (metrics.jsonl), printed and written as SWEEP_DIR/aggregate.md and
aggregate.csv; the best point by --metric (default: val/accuracy where the runs
hold a validation split, else test/accuracy; choose recipes on validation
rows); and, per metric and swept key, the metric against the key's values with
error bars (aggregate_<metric>.png; other keys held at each of their values).
"""
from __future__ import annotations

import csv
import io
import json
import math
import pathlib

import numpy as np
from absl import flags

from dl_course.engine.records import read_metrics
from dl_course.errors import UserError
from dl_course.plots import plt, save_figure
from experiments import cli

_METRIC = flags.DEFINE_string('metric', None, 'Which metric picks the best point.')
_MODE = flags.DEFINE_enum('mode', 'max', ['max', 'min'], 'Whether more or less of it is better.')


def last_records(task_dirs: list[str]) -> list[dict]:
  """The last record of each run; a run without one is an error naming it."""
  records = []
  for folder in task_dirs:
    metrics = read_metrics(folder)
    if not metrics:
      raise UserError(f'{folder} has no records yet: finish the sweep first (rerun launch.sweep)')
    merged = {}
    for record in metrics:  # the latest value of every key (evals may log apart from training)
      merged.update(record)
    records.append(merged)
  return records


def mean_and_error(values: list[float]) -> tuple[float, float]:
  mean = float(np.mean(values))
  error = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
  return mean, error


def aggregate(sweep: dict) -> list[dict]:
  """One row per point: the point, its seeds, and {metric: (mean, s.e.)}."""
  by_point = {}
  for task in sweep['tasks']:
    key = json.dumps(task['point'], sort_keys=True)
    by_point.setdefault(key, {'point': task['point'], 'dirs': [], 'seeds': []})
    by_point[key]['dirs'].append(task['workdir'])
    by_point[key]['seeds'].append(task['seed'])
  rows = []
  for entry in by_point.values():
    records = last_records(entry['dirs'])
    names = sorted({k for r in records for k, v in r.items()
                    if k != 'step' and isinstance(v, (int, float)) and not isinstance(v, bool)})
    stats = {name: mean_and_error([r[name] for r in records if name in r]) for name in names}
    rows.append({'point': entry['point'], 'seeds': entry['seeds'], 'stats': stats})
  return rows


def choose_metric(rows: list[dict], asked: str | None) -> str:
  names = sorted({n for row in rows for n in row['stats']})
  if asked:
    if asked not in names:
      raise UserError(f'--metric={asked!r} is not allowed: the runs logged {", ".join(names)}')
    return asked
  for default in ('val/accuracy', 'test/accuracy'):
    if default in names:
      return default
  raise UserError(f'give --metric: one of {", ".join(names)}')


def best(rows: list[dict], metric: str, mode: str) -> dict:
  scored = [row for row in rows if metric in row['stats']]
  pick = max if mode == 'max' else min
  return pick(scored, key=lambda row: row['stats'][metric][0])


def tables(rows: list[dict], axes: list[str], metrics: list[str]) -> tuple[str, str]:
  """(Markdown, CSV) of mean ± s.e. per point."""
  header = [*axes, 'seeds', *metrics]
  markdown = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  buffer = io.StringIO()
  writer = csv.writer(buffer, lineterminator='\n')
  writer.writerow([*axes, 'seeds', *(f'{m} {part}' for m in metrics for part in ('mean', 'se'))])
  for row in rows:
    cells = [str(row['point'].get(a, '')) for a in axes] + [str(len(row['seeds']))]
    values = [row['stats'].get(m, (math.nan, math.nan)) for m in metrics]
    markdown.append('| ' + ' | '.join(cells + [f'{m:.4g} ± {e:.2g}' for m, e in values]) + ' |')
    writer.writerow(cells + [f'{v!r}' for pair in values for v in pair])
  return '\n'.join(markdown) + '\n', buffer.getvalue()


def _number(text: str):
  try:
    return float(text)
  except ValueError:
    return None


def plot(rows: list[dict], axes: list[str], metric: str, path: pathlib.Path) -> None:
  """The metric against each swept key (one panel per key; a line per setting of the others)."""
  fig, panels = plt.subplots(1, len(axes), figsize=(4.2 * len(axes), 3.2), squeeze=False)
  for axis, panel in zip(axes, panels[0]):
    others = [a for a in axes if a != axis]
    groups = {}
    for row in rows:
      if metric in row['stats']:
        label = ', '.join(f'{a}={row["point"][a]}' for a in others)
        groups.setdefault(label, []).append(row)
    for label, group in groups.items():
      group.sort(key=lambda r: (_number(r['point'][axis]) is None, _number(r['point'][axis]) or 0,
                                r['point'][axis]))
      raw = [r['point'][axis] for r in group]
      numeric = all(_number(v) is not None for v in raw)
      xs = [_number(v) for v in raw] if numeric else list(range(len(raw)))
      means = [r['stats'][metric][0] for r in group]
      errors = [0 if math.isnan(r['stats'][metric][1]) else r['stats'][metric][1] for r in group]
      panel.errorbar(xs, means, yerr=errors, marker='o', capsize=3, label=label or None)
      if not numeric:
        panel.set_xticks(xs, raw)
      elif min(xs) > 0 and max(xs) / min(xs) > 10:
        panel.set_xscale('log')
    panel.set_xlabel(axis)
    panel.set_ylabel(f'{metric} (mean ± s.e.)')
    if len(groups) > 1:
      panel.legend(fontsize=7)
  save_figure(fig, path)


def main(argv):
  if len(argv) != 2:
    raise UserError('give one SWEEP_DIR (a --workdir of launch.sweep)')
  folder = pathlib.Path(argv[1])
  if not (folder / 'sweep.json').exists():
    raise UserError(f'{folder} holds no sweep.json: give the --workdir of a launch.sweep')
  sweep = json.loads((folder / 'sweep.json').read_text())
  axes = list(sweep['axes'])
  rows = aggregate(sweep)
  metric = choose_metric(rows, _METRIC.value)
  metrics = [metric] + sorted({n for r in rows for n in r['stats']} - {metric})
  markdown, table = tables(rows, axes, metrics)
  winner = best(rows, metric, _MODE.value)
  mean, error = winner['stats'][metric]
  line = (f'best point by {metric} ({_MODE.value}): '
          f'{", ".join(f"{k}={v}" for k, v in winner["point"].items()) or "(the only one)"}: '
          f'{mean:.4g} ± {error:.2g} over {len(winner["seeds"])} seeds')
  (folder / 'aggregate.md').write_text(markdown + '\n' + line + '\n')
  (folder / 'aggregate.csv').write_text(table)
  figures = []
  if axes:
    for name in metrics:
      path = folder / f'aggregate_{name.replace("/", "_")}.png'
      plot(rows, axes, name, path)
      figures.append(path.name)
  print(markdown + '\n' + line)
  print(f'written: {folder / "aggregate.md"}, {folder / "aggregate.csv"}'
        + (f', {len(figures)} figures (aggregate_*.png)' if figures else ''))


if __name__ == '__main__':
  cli.run(main)
