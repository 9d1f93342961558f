"""Anonymised bundles of submissions for peer grading.

Each submission is copied under a name drawn from a seeded shuffle
(`peer_007.ipynb`); notebook metadata that can name the author (everything
but the kernel and language) is dropped. The key from anonymous names back to
files is written apart from the bundle, for the teacher only. Text a student
typed into a cell is copied as it is.
"""
from __future__ import annotations

import csv
import json
import pathlib

import numpy as np

from dl_course.errors import UserError
from dl_course.handin import markers

_KEPT_METADATA = ('kernelspec', 'language_info')
SUFFIXES = ('.ipynb', '.py')


def submissions_in(folder: pathlib.Path) -> list[pathlib.Path]:
  if not folder.is_dir():
    raise UserError(f'{folder} is not a folder of submissions')
  found = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
  if not found:
    raise UserError(f'{folder} holds no submission (.ipynb or .py)')
  return found


def bundle(folder: pathlib.Path, out: pathlib.Path, key: pathlib.Path, seed: int) -> list[str]:
  """Writes the anonymised copies into `out` and the key CSV; returns the new names."""
  out, key = out.resolve(), key.resolve()
  if key.is_relative_to(out):
    raise UserError(f'--key={key} is inside the bundle folder {out}: the key would be '
                    'handed out with it; put it elsewhere')
  found = submissions_in(folder)
  order = np.random.default_rng(seed).permutation(len(found))
  width = max(3, len(str(len(found))))
  out.mkdir(parents=True, exist_ok=True)
  names, rows = [], []
  for rank, index in enumerate(order, 1):
    source = found[index]
    name = f'peer_{rank:0{width}d}{source.suffix}'
    if source.suffix == '.ipynb':
      notebook = markers.read_notebook(source)
      notebook['metadata'] = {k: v for k, v in notebook.get('metadata', {}).items()
                              if k in _KEPT_METADATA}
      (out / name).write_text(json.dumps(notebook, indent=1) + '\n', encoding='utf-8')
    else:
      (out / name).write_bytes(source.read_bytes())
    names.append(name)
    rows.append((name, source.name))
  key.parent.mkdir(parents=True, exist_ok=True)
  with open(key, 'w', newline='', encoding='utf-8') as f:
    csv.writer(f).writerows([('anonymous', 'submission'), *sorted(rows)])
  return names
