"""The UCI benchmark shipped in the package (dl_course/data/uci/) is the published one."""
from __future__ import annotations

import hashlib
import lzma
import pathlib
import re

import numpy as np
import pytest

from dl_course.data import uci_benchmark
from dl_course.errors import ConfigError

# Rows and splits of each dataset (the benchmark's README, and Gal's published tables).
SIZES = {'boston': (506, 13, 20), 'concrete': (1030, 8, 20), 'energy': (768, 8, 20),
         'kin8nm': (8192, 8, 20), 'naval': (11934, 16, 20), 'power': (9568, 4, 20),
         'protein': (45730, 9, 5), 'wine': (1599, 11, 20), 'yacht': (308, 6, 20)}
SOURCE = pathlib.Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'uci'


@pytest.mark.parametrize('name', uci_benchmark.DATASETS)
def test_each_dataset_has_its_rows_columns_and_partitioning_splits(name):
  data = uci_benchmark.load(name)
  rows, columns, splits = SIZES[name]
  assert data.x.shape == (rows, columns) and data.y.shape == (rows,)
  assert len(data.splits) == splits
  for train, test in data.splits:
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == rows
    assert 0.09 < len(test) / rows < 0.11  # the protocol's 90/10 splits
  assert data.dropout_rates == (0.005, 0.01, 0.05, 0.1) and len(data.taus) == 3
  assert (data.hidden, data.epochs) == ((100, 20) if name == 'protein' else (50, 40))


def test_the_shipped_text_is_the_published_file_byte_for_byte():
  readme = (uci_benchmark.FOLDER / 'README.md').read_text()
  checksums = dict(re.findall(r'`(\w+)\.data\.txt\.xz`.*`([0-9a-f]{64})`', readme))
  assert set(checksums) == set(uci_benchmark.DATASETS)
  for name, checksum in checksums.items():
    with lzma.open(uci_benchmark.FOLDER / f'{name}.data.txt.xz') as packed:
      assert hashlib.sha256(packed.read()).hexdigest() == checksum, name


@pytest.mark.skipif(not SOURCE.is_dir(), reason=f'the benchmark\'s text layout is not at {SOURCE}')
@pytest.mark.parametrize('name', ['boston', 'protein', 'yacht'])
def test_splits_match_the_published_index_files(name):
  folder = SOURCE / uci_benchmark.FOLDERS[name]
  data = uci_benchmark.load(name)
  for k, (train, test) in enumerate(data.splits):
    published_train = np.loadtxt(folder / f'index_train_{k}.txt', dtype=int)
    published_test = np.loadtxt(folder / f'index_test_{k}.txt', dtype=int)
    assert np.array_equal(np.sort(published_train), train)
    assert np.array_equal(np.sort(published_test), test)
  features = np.loadtxt(folder / 'index_features.txt', dtype=int)
  table = np.loadtxt(folder / 'data.txt')
  assert np.array_equal(table[:, features], data.x)


def test_an_unknown_name_is_one_line_naming_the_choices():
  with pytest.raises(ConfigError, match='boston, concrete'):
    uci_benchmark.load('housing')
