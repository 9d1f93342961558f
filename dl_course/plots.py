"""Matplotlib figures drawn from a run's metrics records, written as PNG files."""
from __future__ import annotations

import os
import pathlib
import sys

import matplotlib

# Files only, so a headless backend, unless the user or a notebook kernel (which
# sets MPLBACKEND to its inline backend) chose one: figures must still show inline.
if 'MPLBACKEND' not in os.environ and 'matplotlib.pyplot' not in sys.modules:
  matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from dl_course.engine.records import refused_writes  # noqa: E402


def learning_curves(records: list[dict], path: str | pathlib.Path, title: str = '') -> None:
  """One panel per metric name (loss, accuracy, ...), train and test curves together."""
  names = sorted({k.split('/', 1)[1] for r in records for k in r if '/' in k}
                 - {'grad_norm', 'param_norm'})
  if not records or not names:
    return
  fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
  steps = [r['step'] for r in records]
  for ax, name in zip(axes[0], names):
    for split in ('train', 'test'):
      key = f'{split}/{name}'
      if any(key in r for r in records):
        ax.plot(steps, [r.get(key, float('nan')) for r in records], label=split)
    ax.set_xlabel('step')
    ax.set_title(name)
    losses = [r[k] for r in records for k in (f'train/{name}', f'test/{name}') if k in r]
    if name == 'loss' and min(losses, default=0) > 0:  # a Gaussian NLL can be negative
      ax.set_yscale('log')
    ax.grid(alpha=0.3)
    ax.legend()
  if title:
    fig.suptitle(title)
  save_figure(fig, path)


def save_figure(fig, path: str | pathlib.Path) -> None:
  """Lays out, writes (110 dpi PNG) and closes a study's figure."""
  fig.tight_layout()
  try:
    with refused_writes(pathlib.Path(path)):
      fig.savefig(path, dpi=110)
  finally:
    plt.close(fig)
