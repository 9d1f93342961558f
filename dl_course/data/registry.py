"""The dataset registry: `load(name, split)` returns in-memory numpy arrays.

Every dataset here is a pair of splits ('train', 'test') of inputs `x` (float32,
shape [N, *input_shape]) and integer labels `y` ([N], int32), plus metadata; your
own csv or npz data with `task='regression'` has real targets `y` ([N], float32)
and num_classes 0.
Names:
  embedded (offline, shipped by pip packages): mnist1d, digits, mnist5k
  toy generators: moons, blobs
  local files: idx (MNIST-format IDX files in `data_dir`)
  TFDS: 'tfds:<name>' (e.g. tfds:mnist) read through `tfds.data_source`
  UCI regression: 'uci:<name>' (e.g. uci:concrete), the benchmark's first standard
    split, inputs standardised with the training rows' statistics, real targets
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from dl_course.errors import DataNotFoundError, UserError

SPLITS = ('train', 'test')


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  name: str
  num_classes: int
  input_shape: tuple[int, ...]
  num_examples: dict[str, int]
  source: str


@dataclasses.dataclass(frozen=True)
class Split:
  x: np.ndarray
  y: np.ndarray
  info: DatasetInfo

  def __len__(self) -> int:
    return len(self.y)


# A builder takes data_dir (or None) and returns {'train': (x, y), 'test': (x, y)}
# and a one-line description of where the data came from.
Builder = Callable[[str | None], tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]]
_BUILDERS: dict[str, Builder] = {}
# Builders of your own data also take the reading options of config.data (own.py).
_TAKES_OPTIONS: set[str] = set()
# Builders that read only the splits asked for (they take `splits=`): a run that
# needs only the test split never reads the training files.
_PER_SPLIT: set[str] = set()
OPTION_KEYS = ('task', 'label_column', 'feature_columns', 'image_column', 'image_shape', 'classes',
               'test_fraction')


def register(name: str, takes_options: bool = False, per_split: bool = False
             ) -> Callable[[Builder], Builder]:
  def decorator(builder: Builder) -> Builder:
    _BUILDERS[name] = builder
    if takes_options:
      _TAKES_OPTIONS.add(name)
    if per_split:
      _PER_SPLIT.add(name)
    return builder
  return decorator


def _frozen(value):
  return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


def options_of(data_config) -> tuple:
  """The reading options in a config's data section, hashable (for the cache)."""
  return tuple((key, _frozen(data_config[key])) for key in OPTION_KEYS if key in data_config)


def from_config(data_config, split: str) -> 'Split':
  """`load` of the dataset a config's data section names, with its options."""
  return load(data_config.name, split, data_config.get('dir') or None, options_of(data_config))


def names() -> list[str]:
  return sorted(_BUILDERS) + ['tfds:<name>', 'uci:<name>']


def _uci_first_split(name: str):
  from dl_course.data import uci_benchmark  # pylint: disable=import-outside-toplevel
  if name not in uci_benchmark.DATASETS:
    raise UserError(f'dataset uci:{name} is unknown; allowed: uci:<name> with <name> one of '
                    + ', '.join(uci_benchmark.DATASETS))
  dataset = uci_benchmark.load(name)
  train, test = dataset.splits[0]
  mean, scale = dataset.x[train].mean(0), dataset.x[train].std(0)
  scale[scale == 0] = 1.0
  x = (dataset.x - mean) / scale
  return ({'train': (x[train], dataset.y[train]), 'test': (x[test], dataset.y[test])},
          f'UCI {name}, standard split 0 of {len(dataset.splits)} (dl_course/data/uci)')


# Validation rows come from this fixed stream, not from a run's seed: every seed and
# every recipe is scored on the same rows, so comparisons between recipes are paired.
VALIDATION_SEED = 20_240_101


def fixed_split(size: int, fraction: float, seed: int):
  """(kept, held): sorted row indices, `fraction` of `size` rows held out by the fixed
  stream `seed`; None where that leaves no row on one side."""
  count = int(round(fraction * size))
  if not 0 < count < size:
    return None
  order = np.random.default_rng(seed).permutation(size)
  return np.sort(order[count:]), np.sort(order[:count])


def hold_out(train: Split, fraction: float) -> tuple[Split, Split]:
  """(the rows that train, the validation rows): a seeded `fraction` of `train`,
  for choosing recipes without looking at the test split."""
  rows = fixed_split(len(train), fraction, VALIDATION_SEED)
  if rows is None:
    raise UserError(f'a validation fraction of {fraction} of {len(train)} training examples '
                    'leaves no validation or no training rows')
  kept, held = rows
  return (Split(x=train.x[kept], y=train.y[kept], info=train.info),
          Split(x=train.x[held], y=train.y[held], info=train.info))


def load(name: str, split: str = 'train', data_dir: str | None = None,
         options: tuple = ()) -> Split:
  """Loads one split of a dataset into memory (cached per process); `options`
  are (key, value) pairs for the builders of your own data (options_of)."""
  if split not in SPLITS:
    raise UserError(f'split {split!r} is unknown; allowed: {", ".join(SPLITS)}')
  only = (split,) if name in _PER_SPLIT else None
  splits, info = _load_all(name, data_dir or None, tuple(options), only)
  if split not in splits:  # a local dataset may hold only some splits
    raise DataNotFoundError(f'dataset {name} has no {split!r} split: {info.source}')
  x, y = splits[split]
  return Split(x=x, y=y, info=info)


def info(name: str, data_dir: str | None = None, options: tuple = ()) -> DatasetInfo:
  return load(name, 'train', data_dir, options).info


@functools.lru_cache(maxsize=16)
def _load_all(name: str, data_dir: str | None, options: tuple = (),
              only: tuple[str, ...] | None = None):
  if name.startswith('tfds:'):
    from dl_course.data import tfds_source  # Imports tfds only when asked for.
    splits, source = tfds_source.build(name.removeprefix('tfds:'), data_dir)
  elif name.startswith('uci:'):
    splits, source = _uci_first_split(name.removeprefix('uci:'))
  elif name in _TAKES_OPTIONS:
    splits, source = _BUILDERS[name](data_dir, dict(options))
  elif name in _PER_SPLIT:
    splits, source = _BUILDERS[name](data_dir, splits=only or SPLITS)
  elif name in _BUILDERS:
    splits, source = _BUILDERS[name](data_dir)
  else:
    raise UserError(f'dataset {name!r} is unknown; allowed: {", ".join(names())}')
  splits = {k: _standardise_arrays(*v) for k, v in splits.items()}
  for arr in (a for pair in splits.values() for a in pair):
    arr.flags.writeable = False  # Cached arrays are shared: keep them immutable.
  x_train, _ = next(iter(splits.values()))
  regression = np.issubdtype(next(iter(splits.values()))[1].dtype, np.floating)
  num_classes = 0 if regression else int(max(y.max() for _, y in splits.values())) + 1
  info_ = DatasetInfo(
      name=name, num_classes=num_classes, input_shape=tuple(x_train.shape[1:]),
      num_examples={k: len(v[1]) for k, v in splits.items()}, source=source)
  return splits, info_


def _standardise_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
  """float32 inputs; int32 class labels, or float32 real targets (regression)."""
  targets = np.float32 if np.issubdtype(np.asarray(y).dtype, np.floating) else np.int32
  return np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y, targets)
